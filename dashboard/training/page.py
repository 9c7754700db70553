"""Training: loss curves of the chosen model, its replay, all sizes overlaid, the seed report's numbers apart."""

import streamlit as st

from dashboard.shell import charts, sidebar, tables
from dashboard.training import replay, seed_report
from vae_core.classes import class_names

ctx = sidebar.require_checkpoint()
checkpoint = ctx.checkpoint
label = ctx.label(checkpoint)
st.title(f"Training of {label}")
st.caption(tables.LOSS_DEFINITION)

if checkpoint.imported:
    st.info(tables.imported_sentence(checkpoint), icon=":material/input:")
else:
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.loss_curves(checkpoint.history, f"Negative ELBO per epoch ({label})"),
                        key="training_loss")
    with right:
        st.plotly_chart(charts.loss_split(checkpoint.history, f"Reconstruction and KL terms ({label})"),
                        key="training_split")
    replay.show(checkpoint, class_names(checkpoint.train_config.dataset))

left, right = st.columns(2)
with left:
    series = [(ctx.label(c), c.history) for c in ctx.checkpoints if not c.imported]
    st.plotly_chart(charts.overlaid_losses(series, "test_loss", "Test loss of every model of this data set"),
                    key="training_overlay")
with right:
    st.plotly_chart(charts.seed_report_curve(seed_report.SEED_REPORT_LOSS, height=380), key="training_seed_report")

if checkpoint.imported:
    st.stop()  # the seed report's table compares training runs
st.subheader("The seed report's table beside ours")
table, note = st.columns([3, 2])
with table:
    st.dataframe(seed_report.seed_comparison_frame(checkpoint), width="stretch", height="content",
                 column_config={name: st.column_config.NumberColumn(format="%.3f")
                                for name in ("seed report (as printed)", "ours: train (nats)", "ours: test (nats)")})
with note:
    st.markdown("The report's numbers are copied as printed; its loss scale is not stated, so they get their "
                "own chart above and are never drawn on our axis.")
    st.markdown(seed_report.seed_drop_sentence(checkpoint))
