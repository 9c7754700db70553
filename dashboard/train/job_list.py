"""The Train page's queue: Train submits jobs; a fragment polls the queue while any job waits or runs.

The poll reads one SQLite table and redraws only this fragment, once a second, and only
while a job is active; with nothing active the fragment does not poll at all. Streamlit fixes
a fragment's ``run_every`` when the whole app runs, so whenever the queue's activity no longer
matches it (a job finished; Train again, Retry or Cancel changed the queue from inside the
fragment), the whole app reruns once: the fragment polls or stops, and the sidebar and every
page list the new model.
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from dashboard.shell import charts, links, replay_view, tables
from dashboard.shell.queue import jobs_or_problem, start_workers
from dashboard.train.state import JobListState
from vae_core.classes import class_names
from vae_core.jobs import ACTIVE, Job, JobQueue, QueueError, QueueFull, place_in_queue
from vae_core.worker import partial_replay_path

POLL_SECONDS = 1.0
FINISHED_SHOWN = 10


def submit(root: Path, combinations, data_dir: Path, maps: bool = True) -> None:
    """The Train button's callback: queue what needs training, then start a worker; says what happened."""
    from vae_core.atomic import SaveError

    queue, queued = JobQueue(root), []
    try:
        for combination in combinations:
            if combination.trains:
                _, note = queue.submit(combination.model_config, combination.train_config, str(data_dir.resolve()),
                                       maps)
                queued.append(f"z = {combination.model_config.latent_dim} {note}")
    except (QueueFull, QueueError, SaveError) as error:
        JobListState.get().error = f"{error}" + (f" (queued: {', '.join(queued)})" if queued else "")
    else:
        st.toast("; ".join(queued) or "nothing to train: every model is cached or in the queue")
    start_workers(root)  # a problem starting one is shown by the job list


def describe(job: Job) -> str:
    """'z = 5 · MLP h400 · beta 1 · 12 epochs · lr 0.001 · batch 128 · seed 0'."""
    model, train = job.model_config, job.train_config
    width = f" h{model.hidden_dim}" if model.architecture != "conv" else ""  # plugins may read the width
    architecture = tables.ARCHITECTURE_NAMES.get(model.architecture, model.architecture)
    return (f"{train.dataset} · z = {model.latent_dim} · {architecture}{width} · "
            f"beta {train.beta:g} · {train.epochs} epochs · lr {train.lr:g} · batch {train.batch_size} · "
            f"seed {train.seed}")


def _progress_text(job: Job) -> str:
    parts = [f"epoch {max(job.epoch, 1)} of {job.epochs}"]
    if job.steps:
        parts.append(f"step {job.step} of {job.steps}")
    if job.running_loss is not None:
        parts.append(f"running loss {job.running_loss:.2f} nats")
    eta = job.eta_seconds()
    if eta is not None:
        parts.append(f"about {eta:.0f} s left" if eta < 90 else f"about {eta / 60:.0f} min left")
    return " · ".join(parts)


def _running(job: Job, queue: JobQueue) -> None:
    if job.phase == "training":
        st.progress(job.fraction_done, text=_progress_text(job))
    else:
        _after_training(job, queue.root)
    growing = replay_view.job_replay_map(partial_replay_path(queue.root, job.id), job.model_config.latent_dim,
                                         tuple(class_names(job.train_config.dataset)))
    curve, forming = st.columns([3, 2]) if growing is not None else (st.container(), None)
    if job.history:
        losses = tuple((row["train_loss"], row["test_loss"]) for row in job.history)
        curve.plotly_chart(job_curves_figure(losses, job.epochs), key=f"train_curve_{job.id}")
    if forming is not None:  # the latent space forming, one picture per epoch (the model's replay so far)
        forming.plotly_chart(growing, key=f"train_replay_{job.id}", config={"displayModeBar": False})
    st.caption(job.message)
    if job.cancel_requested:
        st.caption("Cancelling at the next step…")
    elif job.phase == "training":
        st.button("Cancel", key=f"train_cancel_{job.id}", on_click=queue.cancel, args=(job.id,),
                  help="Stops it; its completed epochs stay as a resume point, and Train continues from there.")


def _after_training(job: Job, root: Path) -> None:
    """The phase after training as its own step: the model is saved and open-able; maps, then metrics, follow."""
    from vae_core.map_progress import map_status, typical_seconds

    last = job.history[-1] if job.history else None
    st.markdown(f":material/check: Trained: {job.epochs} epochs"
                + (f", test loss {last['test_loss']:.2f} nats" if last else "") + ". It can be explored now.")
    status = map_status(root, job.name) if job.phase == "maps" else None
    if job.phase == "metrics":
        st.progress(1.0, text="Maps done · metrics: computing")
    elif status is None:
        st.progress(0.0, text="Maps: starting")
    else:  # t-SNE spans both maps (UMAP runs beside it); t-SNE reports no progress: its usual time stands in
        typical = typical_seconds(root, status.step)
        share = status.fraction or (min(0.95, (time.time() - status.started) / typical) if typical else 0.0)
        beside = "UMAP beside it, then metrics" if status.step == "t-SNE" else "then metrics"
        st.progress(share, text=f"Maps: {status.words()} (PCA ready; {beside})")
    _open_button(job)


def _open_button(job: Job) -> None:
    """'Open in the explorer': the Latent explorer with this job's model chosen."""
    if st.button("Open in the explorer", key=f"train_open_{job.id}", icon=":material/tune:",
                 help="The Latent explorer with this model: sliders that decode as you move them."):
        links.open_model("explorer/page.py", job.name, job.train_config.dataset)


def _finished(job: Job, queue: JobQueue) -> None:
    if job.status == "done":
        st.success(job.message, icon=":material/check_circle:")
        _open_button(job)
        return
    if job.status == "failed":
        st.error(job.message, icon=":material/error:")
    else:
        st.warning(job.message, icon=":material/cancel:")
    label = "Retry" if job.status == "failed" else "Train again"
    st.button(label, key=f"train_retry_{job.id}", on_click=_retry, args=(queue, job),
              help="Queues it again; it continues from its last completed epoch.")


def _retry(queue: JobQueue, job: Job) -> None:
    try:
        queue.submit(job.model_config, job.train_config, job.data_dir, job.maps)
    except (QueueFull, QueueError) as error:
        JobListState.get().error = str(error)
    start_workers(queue.root)


def _job_card(job: Job, jobs: list[Job], queue: JobQueue) -> None:
    with st.container(border=True):
        place = place_in_queue(jobs, job)
        state = f"waiting, place {place} in the queue" if place else job.status
        st.markdown(f"**{describe(job)}** · {state}")
        if job.status == "running":
            _running(job, queue)
        elif job.status == "queued":
            if job.history:
                st.progress(job.fraction_done, text=f"{len(job.history)} of {job.epochs} epochs done")
            st.caption(job.message)
            st.button("Cancel", key=f"train_cancel_{job.id}", on_click=queue.cancel, args=(job.id,))
        else:
            _finished(job, queue)


def _rerun_app_when_changed(jobs: list[Job], polling: bool) -> None:
    """Rerun the whole app when a job finished (the sidebar and pages list its model), or when the queue's
    activity differs from the fragment's polling (a fragment rerun cannot change its own ``run_every``)."""
    finished = JobListState.get().newly_finished(jobs)
    if finished or polling != any(job.status in ACTIVE for job in jobs):
        st.rerun(scope="app")


def _panel(root: Path, polling: bool) -> None:
    problem = start_workers(root)
    queue = JobQueue(root)
    jobs, unreadable = jobs_or_problem(root)
    _rerun_app_when_changed(jobs, polling)
    standing = unreadable or problem
    if standing and not (standing == problem and queue.exists()):  # the sidebar already says the workers' problem
        st.error(standing)
    error = JobListState.get().take_error()
    if error and error not in (problem, unreadable):  # a refused Train that says what the page already says
        st.error(error)
    if not jobs:
        st.caption("No jobs yet: choose a configuration above and press Train.")
        return
    active = [job for job in jobs if job.status == "running"]
    active += sorted((job for job in jobs if job.status == "queued"), key=lambda j: (j.queued_at, j.id))
    finished = sorted((job for job in jobs if job.status not in ACTIVE), key=lambda j: -(j.finished_at or 0))
    for job in active + finished[:FINISHED_SHOWN]:
        _job_card(job, jobs, queue)
    if finished:
        st.button("Clear finished jobs", key="train_clear", on_click=queue.forget_finished,
                  help="Removes them from this list; their checkpoints stay.")


def panel(root: Path, jobs: list[Job]) -> None:
    """The job list; a fragment that reruns every ``POLL_SECONDS`` while one of ``jobs`` (this run's) waits or runs.

    ``polling`` goes in as the fragment's argument, so each of its reruns knows how it was registered.
    """
    polling = any(job.status in ACTIVE for job in jobs)
    st.fragment(_panel, run_every=POLL_SECONDS if polling else None)(root, polling)


@st.cache_resource(max_entries=16, show_spinner=False)
def job_curves_figure(losses: tuple[tuple[float, float], ...], epochs: int):
    """A training job's curve, built once per completed epoch: the page redraws it every poll.

    losses: (train, test) per completed epoch. Shared read-only, like every cached figure.
    """
    history = [{"epoch": epoch, "train_loss": train, "test_loss": test}
               for epoch, (train, test) in enumerate(losses, 1)]
    return charts.job_curves(history, epochs)
