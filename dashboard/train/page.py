"""Train: queue new models from the dashboard and watch their curves grow."""

import streamlit as st

from dashboard.shell import queue, sidebar
from dashboard.train import datasets, form, importer, job_list
from vae_core.data import resolve_data_dir

ctx = sidebar.context()
st.title("Train new models")
st.markdown("Pick a configuration; each latent size becomes one job. Jobs train one after another in a "
            "worker process that keeps going when you close this tab, and the finished models appear in the "
            "sidebar and on every page.")

data_dir = resolve_data_dir()
jobs, _ = queue.jobs_or_problem(ctx.root)  # the job list says why when the queue cannot be read
maps = st.session_state.get("train_maps", True)  # drawn below the plan it changes
combinations, blocked = form.form(ctx, jobs, data_dir, maps)
for combination in combinations:
    st.markdown(f"- **z = {combination.model_config.latent_dim}**: {combination.plan}")
if blocked and combinations:
    st.warning(blocked, icon=":material/folder_off:")
st.checkbox("Compute the t-SNE and UMAP maps and the metrics after training", value=True, key="train_maps",
            help="The model is saved with its PCA map and usable at once; t-SNE, UMAP (for the Latent map and "
                 "Compare) and the metrics follow in the background. The CLI's `project` and `evaluate` compute "
                 "them later too.")
st.button("Train", type="primary", disabled=bool(blocked) or not any(c.trains for c in combinations),
          key="train_submit", on_click=job_list.submit, args=(ctx.root, combinations, data_dir, maps))

st.subheader("Jobs")
job_list.panel(ctx.root, jobs)

importer.section(ctx.root)
datasets.section(ctx.root)
