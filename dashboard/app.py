"""Router of the VAE Latent Explorer: page config, shared sidebar, navigation.

Run with ``streamlit run dashboard/app.py``. Checkpoints come from $VAE_CHECKPOINT_DIR
(default ./checkpoints) and test images from $VAE_DATA_DIR (default ./data).
"""

from pathlib import Path

import streamlit as st

from dashboard import links, session  # the installed package (pip install -e .), not this file's folder

PAGES = Path(__file__).resolve().parent / "app_pages"

st.set_page_config(page_title="VAE Latent Explorer", page_icon=":material/blur_on:", layout="wide")

navigation = st.navigation({
    "Models": [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/home:", default=True),
        st.Page(PAGES / "training.py", title="Training", icon=":material/show_chart:", url_path="training"),
        st.Page(PAGES / "train.py", title="Train new models", icon=":material/model_training:", url_path="train"),
    ],
    "Look inside": [
        st.Page(PAGES / "generate.py", title="Generate", icon=":material/casino:", url_path="generate"),
        st.Page(PAGES / "reconstruct.py", title="Reconstruct", icon=":material/sync_alt:", url_path="reconstruct"),
        st.Page(PAGES / "latent_map.py", title="Latent map", icon=":material/scatter_plot:", url_path="latent-map"),
        st.Page(PAGES / "explorer.py", title="Latent explorer", icon=":material/tune:", url_path="explorer"),
        st.Page(PAGES / "traversals.py", title="Traversals", icon=":material/view_comfy:", url_path="traversals"),
        st.Page(PAGES / "arithmetic.py", title="Class arithmetic", icon=":material/calculate:",
                url_path="arithmetic"),
        st.Page(PAGES / "draw.py", title="Your digit", icon=":material/draw:", url_path="your-digit"),
        st.Page(PAGES / "compare.py", title="Compare models", icon=":material/view_column:", url_path="compare"),
    ],
})
links.keep_only(navigation.url_path)  # a link describes one page: the others' parameters go
session.sidebar()
navigation.run()
