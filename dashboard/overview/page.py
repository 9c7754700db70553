"""Overview: what the app shows, the cached models, data status, skipped checkpoint folders."""

import streamlit as st

from dashboard.shell import cache, captions, sidebar, tables
from vae_core import architectures

ctx = sidebar.context()
st.title("VAE Latent Explorer")
st.markdown(
    "Variational autoencoders trained on MNIST and Fashion-MNIST with different **latent sizes** (the "
    "number of latent variables), **KL weights** (beta) and **architectures** (an MLP, a small conv net, or one "
    "an installed package registers). "
    "Pick a model in the sidebar, then look at its **training** curves, **generate** new images from random "
    "latent vectors, **reconstruct** test images, see the **latent map** of the test set, move through the "
    "latent space with the **latent explorer** (decoded live in your browser), and **compare models** side by "
    "side along any of these settings."
)

if not ctx.checkpoints:
    sidebar.how_to_train(ctx.root, ctx.error)
else:
    st.subheader(f"Cached models ({ctx.dataset})")
    st.dataframe(
        tables.summary_frame(ctx.checkpoints), hide_index=True, width="stretch",
        column_config={
            "test loss (nats)": st.column_config.NumberColumn(format="%.2f"),
            "recon (nats)": st.column_config.NumberColumn(format="%.2f"),
            "KL (nats)": st.column_config.NumberColumn(format="%.2f"),
            "training time (s)": st.column_config.NumberColumn(format="%.0f"),
        },
    )
    st.caption(tables.LOSS_DEFINITION)

st.subheader("Data")
reason = captions.missing_test_files(ctx.dataset or "mnist", cache.data_key())  # a stat, no read
if reason is not None:
    st.info(f"Originals are hidden on Reconstruct, Latent map and Compare, and everything else works from "
            f"the checkpoints, because {reason[0].lower()}{reason[1:]}.")
else:
    st.success(f"The {ctx.dataset or 'mnist'} test images are in VAE_DATA_DIR: pages show originals beside "
               "their reconstructions.")

skipped = architectures.problems()  # plugins that failed to import or break the contract: one line each
if skipped:
    st.warning("Skipped architecture plugins:\n\n" + "\n".join(f"- {line}" for line in skipped))
if ctx.problems:
    st.warning("Skipped checkpoint folders and files:\n\n" + "\n".join(
        f"- `{problem.path.name}`: {problem.message}" for problem in ctx.problems))
