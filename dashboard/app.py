"""Router of the VAE Latent Explorer: page config, shared sidebar, navigation.

Run with ``streamlit run dashboard/app.py``. Checkpoints come from $VAE_CHECKPOINT_DIR
(default ./checkpoints) and test images from $VAE_DATA_DIR (default ./data). Each page is a
feature slice: ``dashboard/<slice>/page.py`` lays it out, its siblings hold its state and helpers.
"""

from pathlib import Path

import pandas  # noqa: F401  (see below)
import streamlit as st

from dashboard.shell import links, sidebar, view  # the installed package (pip install -e .), not this file's folder

SLICES = Path(__file__).resolve().parent
# pandas is imported whole by the first run, before any page: plotly looks it up in sys.modules when it
# converts a figure, and two sessions drawing their first charts at once could find it half-imported.


def page(slice_name: str, title: str, icon: str, url_path: str | None = None, default: bool = False) -> st.Page:
    """The page of one slice; ``url_path`` is its address (kept stable: shared links name it)."""
    address = None if default else url_path or slice_name.replace("_", "-")  # the default page is "/"
    return st.Page(SLICES / slice_name / "page.py", title=title, icon=f":material/{icon}:", url_path=address,
                   default=default)


st.set_page_config(page_title="VAE Latent Explorer", page_icon=":material/blur_on:", layout="wide")

navigation = st.navigation({
    "Models": [
        page("overview", "Overview", "home", default=True),
        page("training", "Training", "show_chart"),
        page("train", "Train new models", "model_training"),
    ],
    "Look inside": [
        page("generate", "Generate", "casino"),
        page("reconstruct", "Reconstruct", "sync_alt"),
        page("latent_map", "Latent map", "scatter_plot"),
        page("explorer", "Latent explorer", "tune"),
        page("traversals", "Traversals", "view_comfy"),
        page("arithmetic", "Class arithmetic", "calculate"),
        page("your_digit", "Your digit", "draw"),
        page("compare", "Compare models", "view_column"),
    ],
})
view.apply_pending()  # values a view asked for on its last run, before any widget
links.keep_only(navigation.url_path)  # a link describes one page: the others' parameters go
links.on_page(navigation.url_path)  # a page's first run reads its address as a link's
sidebar.sidebar()
navigation.run()
