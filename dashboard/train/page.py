"""Train: queue new models from the dashboard and watch their curves grow."""

import streamlit as st

from dashboard.shell import queue, sidebar
from dashboard.train import form, job_list
from vae_core.data import resolve_data_dir

ctx = sidebar.context()
st.title("Train new models")
st.markdown("Pick a configuration; each latent size becomes one job. Jobs train one after another in a "
            "worker process that keeps going when you close this tab, and the finished models appear in the "
            "sidebar and on every page.")

data_dir = resolve_data_dir()
jobs, _ = queue.jobs_or_problem(ctx.root)  # the job list says why when the queue cannot be read
combinations, blocked = form.form(ctx, jobs, data_dir)
for combination in combinations:
    st.markdown(f"- **z = {combination.model_config.latent_dim}**: {combination.plan}")
if blocked and combinations:
    st.warning(blocked, icon=":material/folder_off:")
maps = st.checkbox("Compute the latent maps after training", value=True, key="train_maps",
                   help="PCA, t-SNE and UMAP of the test set for the Latent map and Compare pages: about a minute "
                        "per model on two cores (the CLI's `project` computes them later too).")
st.button("Train", type="primary", disabled=bool(blocked) or not any(c.trains for c in combinations),
          key="train_submit", on_click=job_list.submit, args=(ctx.root, combinations, data_dir, maps))

st.subheader("Jobs")
job_list.panel(ctx.root, jobs)
