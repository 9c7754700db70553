"""The measured side of the pages, without Streamlit: metric charts, classifier readings, labelled grids.

Metrics come from ``vae-explorer evaluate``'s metrics.json (schema in ``vae_core.evaluate``),
readings from the digit classifier of ``vae-explorer train-classifier``
(``vae_core.classifier``). Pages reach the costly parts through ``dashboard.cache``.
"""

from __future__ import annotations

import io
import math

import numpy as np

EVALUATE_HINT = "vae-explorer evaluate"
CLASSIFIER_HINT = "vae-explorer train-classifier"
KL_COLLAPSED = 0.01  # nats: the fallback test when metrics.json has no active-unit flags
UNSURE = 0.6  # below this top probability the reading also names the runner-up
TILE_FONT_SIZE = 12
AMBER = (255, 176, 0)  # an unsure guess
PARTNER = (140, 200, 255)  # the nearest training image and its distance
CLASS_NAMES = {
    "fashion-mnist": ("T-shirt", "trouser", "pullover", "dress", "coat",
                      "sandal", "shirt", "sneaker", "bag", "ankle boot"),
}
# y-axis title and tick format of each plotted metric (paths of vae_core.evaluate.SUMMARY_METRICS)
AXES = {
    "nll_iw": ("nats per image", None),
    "elbo.loss": ("nats per image", None),
    "elbo.recon": ("nats per image", None),
    "elbo.kl": ("nats per image", None),
    "active_units": ("dimensions", "d"),
    "samples.frechet_distance": ("classifier features", None),
    "samples.mean_top_probability": ("mean top probability", ".0%"),
    "samples.class_entropy": ("nats", None),
    "reconstructions.classifier_accuracy": ("accuracy", ".1%"),
    "memorisation.ratio_to_recon": ("samples / reconstructions", None),
    "linear_probe.test_accuracy": ("test accuracy", ".0%"),
}


# --- Compare: metrics against latent size -----------------------------------------------------

def chart_metrics() -> list[tuple[str, str, str]]:
    """(metrics.json path, label, what a better value is) of every metric plotted against latent size."""
    from vae_core import evaluate

    return list(evaluate.SUMMARY_METRICS)


def better_caption(meaning: str) -> str:
    """'lower: the model ...' -> 'Better: lower: the model ...'; a meaning without a direction stays as is."""
    text = meaning.rstrip(".")
    if text.startswith(("lower", "higher", "closer", "near")):
        return f"Better: {text}."
    return f"{text[0].upper()}{text[1:]}."


def metric_points(checkpoints, metrics_of, label_of) -> tuple[list[tuple[int, str, dict]], list[str]]:
    """([(latent size, model label, metrics)] of the evaluated models, labels of the others).

    ``metrics_of(checkpoint)`` returns the parsed metrics.json or None; ``label_of`` names a model.
    """
    points, missing = [], []
    for checkpoint in sorted(checkpoints, key=lambda c: c.model_config.latent_dim):
        metrics = metrics_of(checkpoint)
        if metrics:
            points.append((checkpoint.model_config.latent_dim, label_of(checkpoint), metrics))
        else:
            missing.append(label_of(checkpoint))
    return points, missing


def missing_metrics_sentence(labels: list[str]) -> str:
    """One sentence: which models lack metrics.json and the command that computes it."""
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return (f"{names} {'has' if len(labels) == 1 else 'have'} no metrics.json yet: compute it with "
            f"`{EVALUATE_HINT}` (it needs MNIST in VAE_DATA_DIR and the classifier of `{CLASSIFIER_HINT}`).")


def source_caption(metrics_list: list[dict]) -> str:
    """Where the points come from: metrics.json and the settings it was computed with."""
    settings = [m.get("settings") or {} for m in metrics_list]
    if any(other != settings[0] for other in settings[1:]):
        return (f"Each point is one model's metrics.json (`{EVALUATE_HINT}`); the models were evaluated with "
                "different settings, so compare with care.")
    k, n, seed = (settings[0].get(key, "?") for key in ("iw_samples", "samples", "seed"))
    n = f"{n:,}" if isinstance(n, int) else n
    return (f"Each point is one model's metrics.json (`{EVALUATE_HINT}`): ELBO and NLL over the full test set "
            f"with K = {k} importance samples, sample metrics over N = {n} prior draws (seed {seed}) judged by "
            "the digit classifier. Dashed lines: even coverage, every dimension active, no copying.")


def _reference_line(path: str, sizes: list[int]) -> tuple[list, list, str] | None:
    """(x, y, name) of the value a metric is judged against, drawn dashed."""
    if path == "samples.class_entropy":
        return [min(sizes), max(sizes)], [math.log(10)] * 2, "even coverage (log 10)"
    if path == "active_units":
        return sizes, sizes, "all dimensions"
    if path == "memorisation.ratio_to_recon":
        return [min(sizes), max(sizes)], [1.0, 1.0], "no copying (1)"
    return None


def metric_figure(points: list[tuple[int, str, dict]], path: str, label: str, height: int = 260):
    """A small line + marker chart of one metric against latent size (log axis, one tick per size)."""
    import plotly.graph_objects as go

    from vae_core import evaluate

    kept = [(size, name, evaluate.metric_value(metrics, path)) for size, name, metrics in points]
    kept = [(size, name, value) for size, name, value in kept if value is not None]
    sizes = sorted({size for size, _, _ in kept})
    y_title, tick_format = AXES.get(path, ("", None))
    figure = go.Figure()
    reference = _reference_line(path, sizes) if sizes else None
    if reference is not None:
        figure.add_scatter(x=reference[0], y=reference[1], name=reference[2], mode="lines",
                           line={"color": "#999999", "dash": "dash", "width": 1}, hoverinfo="name")
    figure.add_scatter(x=[s for s, _, _ in kept], y=[v for _, _, v in kept], customdata=[n for _, n, _ in kept],
                       mode="lines+markers", name=label, line={"color": "#1f77b4"}, marker={"size": 8},
                       hovertemplate="%{customdata}: %{y:.4g}<extra></extra>")
    figure.update_layout(title={"text": label, "font": {"size": 15}}, height=height, showlegend=False,
                         margin={"l": 55, "r": 15, "t": 40, "b": 45}, font={"size": 12})
    figure.update_xaxes(type="log", tickvals=sizes, ticktext=[str(s) for s in sizes], title="latent size")
    figure.update_yaxes(title=y_title, tickformat=tick_format)
    return figure


# --- Latent explorer: collapsed dimensions and the classifier's reading ------------------------

def collapsed_dims(latent_dim: int, metrics: dict | None, scores) -> set[int]:
    """Dimensions that carry (almost) nothing: inactive per metrics.json, else KL score < KL_COLLAPSED.

    metrics.json marks a dimension active when the variance of its posterior mean over the
    test set exceeds ``active_threshold`` (Burda et al. 2016). Without it, ``scores`` [D] (nats)
    decide; all-zero scores mean nothing was measured, so nothing is marked.
    """
    variance = (metrics or {}).get("posterior_mean_variance")
    threshold = (metrics or {}).get("active_threshold")
    if isinstance(variance, list) and len(variance) == latent_dim and isinstance(threshold, (int, float)):
        return {dim for dim, value in enumerate(variance) if value <= threshold}
    values = np.asarray(scores, dtype=np.float64)
    if len(values) != latent_dim or not np.any(values > 0):
        return set()
    return {int(dim) for dim in np.flatnonzero(values < KL_COLLAPSED)}


def slider_label(dim: int, scores, collapsed: set[int]) -> str:
    """'z[3] (KL 1.25 nats)', with an orange 'collapsed' after an unused dimension (label markdown)."""
    from dashboard import views

    return views.dim_label(dim, scores) + (" · :orange[collapsed]" if dim in collapsed else "")


def slider_text(dim: int, scores, collapsed: set[int]) -> str:
    """'z[3] (KL 1.25 nats)', with '· collapsed' after an unused dimension (plain text, for the live view)."""
    from dashboard import views

    return views.dim_label(dim, scores) + (" · collapsed" if dim in collapsed else "")


def collapsed_note(collapsed: set[int], latent_dim: int, from_metrics: bool) -> str | None:
    """One caption line explaining the 'collapsed' marks, or None when no dimension is collapsed."""
    if not collapsed:
        return None
    test = ("its posterior mean varies by at most 0.01 over the test set (metrics.json)" if from_metrics
            else f"its average KL is below {KL_COLLAPSED} nats")
    return (f"{len(collapsed)} of {latent_dim} dimensions are collapsed ({test}): the decoder ignores them, "
            "so their sliders change little.")


def class_names(dataset: str) -> tuple[str, ...]:
    return CLASS_NAMES.get(dataset, tuple(str(k) for k in range(10)))


def _article(name: str) -> str:
    return "an" if name[0].lower() in "aeiou8" else "a"


def reading(probabilities, dataset: str = "mnist") -> str:
    """probabilities [10] -> 'Looks like a **7** (96%)', naming the runner-up when unsure."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    first, second = (int(k) for k in np.argsort(-p, kind="stable")[:2])
    names = class_names(dataset)
    text = f"Looks like {_article(names[first])} **{names[first]}** ({p[first]:.0%})"
    if p[first] < UNSURE:
        text += f", or {_article(names[second])} **{names[second]}** ({p[second]:.0%})"
    return text


def classify_image(classifier, image: np.ndarray):
    """One decoded image [28, 28] in [0, 1] -> class probabilities [10] (one ~1 ms forward pass)."""
    import torch

    from vae_core.classifier import predict_proba

    return predict_proba(classifier, torch.as_tensor(image).reshape(1, 28, 28))[0].numpy()


def classifier_missing_sentence(reason: str | None) -> str:
    """One sentence for a missing classifier; ``reason`` is load_classifier's error, which names the fix."""
    if reason and CLASSIFIER_HINT in reason:
        return f"{reason[0].upper()}{reason[1:]} to see the classifier's reading of each digit."
    return (f"{(reason or 'no digit classifier is stored').rstrip('.')}: train one with `{CLASSIFIER_HINT}` "
            "to see the classifier's reading of each digit.")


# --- Generate: labelled samples and their nearest training images ------------------------------

def generated_images(model, seed: int, count: int, temperature: float) -> np.ndarray:
    """The digits of the Generate grid, [count, 28, 28]: the same prior draws as ``views.generated_grid_png``."""
    from vae_core import explore

    return explore.decode(model, explore.prior_samples(model.config.latent_dim, count, seed, temperature))


LABELS_CAPTION = ("Under each sample: the classifier's guess and its probability; amber when it is below "
                  f"{UNSURE:.0%}, a digit the classifier cannot place.")


def tile_labels(classifier, images: np.ndarray, dataset: str) -> list[tuple[str, float]]:
    """images [N, 28, 28] -> one (class name, top probability) per image."""
    import torch

    from vae_core.classifier import predict_proba

    probabilities = predict_proba(classifier, torch.as_tensor(images)).numpy()
    names = class_names(dataset)
    return [(names[int(p.argmax())], float(p.max())) for p in probabilities]


def nearest_training(images: np.ndarray, train_images) -> tuple[np.ndarray, np.ndarray]:
    """images [N, 28, 28] -> (nearest training images [N, 28, 28], L2 distances [N]) in pixel space."""
    import torch

    from vae_core.evaluate import nearest_training_image

    neighbours, distances = nearest_training_image(torch.as_tensor(images), train_images)
    return neighbours.numpy(), distances.numpy()


def missing_train_files(dataset: str, data_dir) -> str | None:
    """Why the training images are absent (one sentence), found with a stat call; None when present."""
    from vae_core.data import raw_folder, split_files_present

    if split_files_present(dataset, train=True, data_dir=data_dir):
        return None
    folder = raw_folder(dataset, data_dir)
    return (f"Nearest training images need the {dataset} training set, which is not in {folder}: "
            f"set VAE_DATA_DIR to the folder that holds {folder.parent.name}/raw.")


def nearest_caption(distances: np.ndarray, metrics: dict | None) -> str:
    """Mean distance of the shown samples to their nearest training image, beside metrics.json's baselines."""
    text = (f"Below each sample: its nearest training image (L2 distance over 784 grey levels in [0, 1]; "
            f"mean {float(np.mean(distances)):.2f} here).")
    memo = (metrics or {}).get("memorisation") or {}
    recon, test = memo.get("recon_mean_nn_distance"), memo.get("test_mean_nn_distance")
    if isinstance(recon, (int, float)) and isinstance(test, (int, float)):
        text += (f" For reference (metrics.json): reconstructions of test digits lie {recon:.2f} from theirs, "
                 f"test digits {test:.2f}; samples much closer than that would be copies.")
    return text


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def annotated_grid_png(images: np.ndarray, columns: int, labels: list[tuple[str, float]] | None = None,
                       partners: np.ndarray | None = None, partner_notes: list[str] | None = None,
                       factor: int = 3, max_width: int = 1460) -> bytes:
    """Samples [N, 28, 28] tiled ``columns`` per row, each cell with optional extras under it.

    Under a sample: its partner image [28, 28] (the nearest training image), then one text
    line per annotation: the classifier's (class, probability), amber when unsure, and the partner's note.
    """
    from PIL import Image, ImageDraw

    from vae_core import explore

    count = len(images)
    columns = max(1, min(columns, count))
    factor = max(1, min(factor, max_width // (columns * (28 + 2))))
    side, pad = 28 * factor, 2
    font_size = max(9, min(TILE_FONT_SIZE + 2 * (factor - 2), 16))
    line = font_size + 7
    lines = (labels is not None) + (partner_notes is not None)
    cell_w, cell_h = side + pad, side * (1 + (partners is not None)) + pad * (1 + (partners is not None)) + line * lines
    rows = -(-count // columns)
    canvas = Image.new("RGB", (columns * cell_w + pad, rows * cell_h + pad), (89, 89, 89))
    draw, font, bold = ImageDraw.Draw(canvas), _font(font_size), _font(font_size + 3)
    for index in range(count):
        left, top = pad + (index % columns) * cell_w, pad + (index // columns) * cell_h
        tiles = [images[index]] + ([partners[index]] if partners is not None else [])
        for number, tile in enumerate(tiles):
            if number:  # the partner's top edge in the colour of its note: sample above, neighbour below
                draw.rectangle([left, top - pad, left + side - 1, top - 1], fill=PARTNER)
            pixels = explore.upscale(explore.to_uint8(tile), factor)
            canvas.paste(Image.fromarray(pixels).convert("RGB"), (left, top))
            top += side + pad
        texts = []
        if labels is not None:
            name, probability = labels[index]
            sure = probability >= UNSURE
            texts.append([(name, (255, 255, 255) if sure else AMBER, bold),
                          (f"  {probability:.0%}", (170, 170, 170) if sure else AMBER, font)])
        if partner_notes is not None:
            texts.append([(partner_notes[index], PARTNER, font)])
        for parts in texts:
            draw.rectangle([left, top, left + side - 1, top + line - 2], fill=(17, 17, 17))
            x = left + (side - sum(draw.textlength(t, font=f) for t, _, f in parts)) / 2
            for text, colour, part_font in parts:
                draw.text((x, top + line - 3), text, fill=colour, font=part_font, anchor="ls")
                x += draw.textlength(text, font=part_font)
            top += line
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def digit_and_reading(model, z, classifier, dataset: str) -> tuple[bytes, str | None]:
    """z [D] -> (the decoded digit as a large PNG, the classifier's reading or None without a classifier).

    One decode (~0.1 ms) and one classifier forward pass (~1 ms): cheap enough for every slider move.
    """
    from dashboard import views
    from vae_core import explore

    image = explore.decode(model, z.reshape(1, -1))[0]
    png = explore.png_bytes(image, views.DIGIT_SCALE)
    return png, None if classifier is None else reading(classify_image(classifier, image), dataset)


def reading_of(model, z, classifier, dataset: str) -> str | None:
    """z [D] -> the classifier's reading of the decoded digit, or None without a classifier."""
    from vae_core import explore

    if classifier is None:
        return None
    return reading(classify_image(classifier, explore.decode(model, z.reshape(1, -1))[0]), dataset)
