"""Captions and sentences: what a page says about a number, a missing file or a reading.

Each function returns text (markdown where noted); one sentence names the problem and the fix.
Nothing here runs a model: a reading is worded from probabilities it is given (``ui.reading_of``
computes them). Words follow the data set through ``vae_core.classes``: "digit" for MNIST,
"item" or the class name for Fashion-MNIST.
"""

from __future__ import annotations

import numpy as np

from vae_core.classes import class_names, noun, with_article
from vae_core.defaults import KL_COLLAPSED, UNSURE

__all__ = ["class_names"]  # re-exported: the map pages name their classes through captions

TRAIN_HINT = "vae-explorer train --latent-dims 2 5 10 20 50"
EVALUATE_HINT = "vae-explorer evaluate"
CLASSIFIER_HINT = "vae-explorer train-classifier"



def labels_caption(dataset: str) -> str:
    """What the Generate grid's labels mean, in the data set's words."""
    return ("Under each sample: the classifier's guess and its probability; amber when it is below "
            f"{UNSURE:.0%}, {with_article(noun(dataset))} the classifier cannot place.")


def missing_test_files(dataset: str, data_dir) -> str | None:
    """The reason the test split cannot be there, found with a stat call; else None.

    Loading the split needs torchvision (seconds to import), so an absent folder is
    reported without it and the import is paid only when there is data to read.
    """
    from vae_core.data import raw_folder, split_files_present

    if split_files_present(dataset, train=False, data_dir=data_dir):
        return None
    folder = raw_folder(dataset, data_dir)
    return (f"{dataset} test images are not in {folder}: set VAE_DATA_DIR to the folder that holds "
            f"{folder.parent.name}/raw (or run `vae-explorer download --dataset {dataset}`)")


def missing_data_sentence(reason: str | None, what: str) -> str:
    """One sentence: what cannot be shown, why, and what to set."""
    reason = reason or "the test images could not be loaded"
    return f"{what} are hidden because {reason[0].lower()}{reason[1:]}"


def missing_map_sentence(method: str, dataset: str) -> str:
    """Why a projection is not drawn while nothing computes it, and the command that adds it."""
    return (f"No cached {method} map for this model yet: `vae-explorer project --dataset {dataset}` adds it from the "
            "cached means (no test images needed), and this page shows it when it is done.")


def dim_label(dim: int, scores) -> str:
    """'z[3] (KL 1.25 nats)': how sliders and dimension pickers name a latent dimension."""
    return f"z[{dim}] (KL {float(scores[dim]):.2f} nats)"


def point_caption(z, dims: list[int], dataset: str = "mnist") -> str:
    """Where the decoded image is ('Decoded digit at ...', 'Decoded item at ...'): all of z [D] when short,
    else which coordinates the sliders set."""
    values, head = z.tolist(), f"Decoded {noun(dataset)} at"
    if len(values) <= 8:
        return f"{head} z = (" + ", ".join(f"{v:.2f}" for v in values) + ")"
    shown = ", ".join(f"z[{d}] = {values[d]:.2f}" for d in dims[:4])
    return f"{head} {shown}{', …' if len(dims) > 4 else ''}; {_held_note(len(values) - len(dims))}"


def _held_note(held: int) -> str:
    """What happens to the dimensions without a slider, worded for none, one or several."""
    if held <= 0:
        return "every dimension has a slider"
    if held == 1:
        return "the one other dimension stays at the start point"
    return f"the other {held} dimensions stay at the start point"


def better_caption(meaning: str) -> str:
    """'lower: the model ...' -> 'Better: lower: the model ...'; a meaning without a direction stays as is."""
    text = meaning.rstrip(".")
    if text.startswith(("lower", "higher", "closer", "near")):
        return f"Better: {text}."
    return f"{text[0].upper()}{text[1:]}."


def missing_metrics_sentence(labels: list[str]) -> str:
    """One sentence: which models lack metrics.json and the command that computes it."""
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return (f"{names} {'has' if len(labels) == 1 else 'have'} no metrics.json yet: compute it with "
            f"`{EVALUATE_HINT}` (it needs MNIST in VAE_DATA_DIR and the classifier of `{CLASSIFIER_HINT}`).")


def source_caption(metrics_list: list[dict], dataset: str = "mnist") -> str:
    """Where the points come from: metrics.json and the settings it was computed with."""
    settings = [m.get("settings") or {} for m in metrics_list]
    if any(other != settings[0] for other in settings[1:]):
        return (f"Each point is one model's metrics.json (`{EVALUATE_HINT}`); the models were evaluated with "
                "different settings, so compare with care.")
    k, n, seed = (settings[0].get(key, "?") for key in ("iw_samples", "samples", "seed"))
    n = f"{n:,}" if isinstance(n, int) else n
    return (f"Each point is one model's metrics.json (`{EVALUATE_HINT}`): ELBO and NLL over the full test set "
            f"with K = {k} importance samples, sample metrics over N = {n} prior draws (seed {seed}) judged by "
            f"the {noun(dataset)} classifier. Dashed lines: even coverage, every dimension active, no copying.")


def slider_label(dim: int, scores, collapsed: set[int]) -> str:
    """'z[3] (KL 1.25 nats)', with an orange 'collapsed' after an unused dimension (label markdown)."""
    return dim_label(dim, scores) + (" · :orange[collapsed]" if dim in collapsed else "")


def slider_text(dim: int, scores, collapsed: set[int]) -> str:
    """'z[3] (KL 1.25 nats)', with '· collapsed' after an unused dimension (plain text, for the live view)."""
    return dim_label(dim, scores) + (" · collapsed" if dim in collapsed else "")


def collapsed_note(collapsed: set[int], latent_dim: int, from_metrics: bool) -> str | None:
    """One caption line explaining the 'collapsed' marks, or None when no dimension is collapsed."""
    if not collapsed:
        return None
    test = ("its posterior mean varies by at most 0.01 over the test set (metrics.json)" if from_metrics
            else f"its average KL is below {KL_COLLAPSED} nats")
    return (f"{len(collapsed)} of {latent_dim} dimensions are collapsed ({test}): the decoder ignores them, "
            "so their sliders change little.")


def _bold_with_article(name: str) -> str:
    """'a **7**', 'an **ankle boot**': the article outside the bold name."""
    article, _, word = with_article(name).partition(" ")
    return f"{article} **{word}**"


def reading(probabilities, dataset: str = "mnist") -> str:
    """probabilities [10] -> 'Looks like a **7** (96%)', naming the runner-up when unsure."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    first, second = (int(k) for k in np.argsort(-p, kind="stable")[:2])
    names = class_names(dataset)
    text = f"Looks like {_bold_with_article(names[first])} ({p[first]:.0%})"
    if p[first] < UNSURE:
        text += f", or {_bold_with_article(names[second])} ({p[second]:.0%})"
    return text


def classifier_missing_sentence(reason: str | None, dataset: str = "mnist") -> str:
    """One sentence for a missing classifier; ``reason`` is load_classifier's error, which names the fix."""
    each = f"to see the classifier's reading of each {noun(dataset)}."
    if reason and CLASSIFIER_HINT in reason:
        return f"{reason[0].upper()}{reason[1:]} {each}"
    return (f"{(reason or f'no {noun(dataset)} classifier is stored').rstrip('.')}: train one with "
            f"`{CLASSIFIER_HINT}` {each}")


def missing_train_files(dataset: str, data_dir) -> str | None:
    """Why the training images are absent (one sentence), found with a stat call; None when present."""
    from vae_core.data import raw_folder, split_files_present

    if split_files_present(dataset, train=True, data_dir=data_dir):
        return None
    folder = raw_folder(dataset, data_dir)
    return (f"Nearest training images need the {dataset} training set, which is not in {folder}: "
            f"set VAE_DATA_DIR to the folder that holds {folder.parent.name}/raw.")


def nearest_caption(distances: np.ndarray, metrics: dict | None, dataset: str = "mnist") -> str:
    """Mean distance of the shown samples to their nearest training image, beside metrics.json's baselines."""
    text = (f"Below each sample: its nearest training image (L2 distance over 784 grey levels in [0, 1]; "
            f"mean {float(np.mean(distances)):.2f} here).")
    memo = (metrics or {}).get("memorisation") or {}
    recon, test = memo.get("recon_mean_nn_distance"), memo.get("test_mean_nn_distance")
    if isinstance(recon, (int, float)) and isinstance(test, (int, float)):
        text += (f" For reference (metrics.json): reconstructions of test {noun(dataset, True)} lie {recon:.2f} "
                 f"from theirs, test {noun(dataset, True)} {test:.2f}; samples much closer than that would be copies.")
    return text
def numbered(index: int, label: int | None, dataset: str) -> str:
    """'#4 (an ankle boot)', '#7 (a 7)', or '#7' when the class is unknown."""
    return f"#{index}" + ("" if label is None else f" ({with_article(class_names(dataset)[int(label)])})")


def walk_between_note(first: int, last: int, first_label, last_label, dataset: str = "mnist") -> str:
    """The walk's caption; the labels are the test images' classes (None when unknown)."""
    return (f"Each model decodes the straight line from its own mean of test {noun(dataset)} "
            f"{numbered(first, first_label, dataset)} to {numbered(last, last_label, dataset)}, "
            "in your browser as you drag (or press Play).")


def walk_direction_note(seed: int, radius: float) -> str:
    return (f"Each model decodes a random direction (seed {seed}) from -{radius:g} to +{radius:g} prior "
            "standard deviations through the origin, in your browser as you drag (or press Play).")
