"""What a data set's images are called: its class names, the noun for one image, and the article.

Pages, exports and captions word themselves from here, so a Fashion-MNIST page says "an ankle
boot" and "item" where an MNIST page says "a 7" and "digit"; a registered data set, "image". Plain data, no torch.
"""

from __future__ import annotations

DIGITS = tuple(str(k) for k in range(10))
CLASS_NAMES = {
    "mnist": DIGITS,
    "fashion-mnist": ("T-shirt", "trouser", "pullover", "dress", "coat",
                      "sandal", "shirt", "sneaker", "bag", "ankle boot"),
}
# (one image, several images): what a page calls the data set's pictures.
NOUNS = {"mnist": ("digit", "digits"), "fashion-mnist": ("item", "items")}
DISPLAY_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def class_names(dataset: str) -> tuple[str, ...]:
    """The class names of ``dataset``, label k at index k: MNIST's digits name themselves; a registered data set's
    are its folders' names (its dataset.json, under $VAE_CHECKPOINT_DIR), or the digits 0-9 when it cannot be read."""
    if dataset in CLASS_NAMES:
        return CLASS_NAMES[dataset]
    from .data import DataUnavailableError, image_set

    try:
        return tuple(image_set(dataset).class_names)
    except (DataUnavailableError, ValueError):
        return DIGITS


def class_name(dataset: str, label: int) -> str:
    """Label k -> its class name: '7' on MNIST, 'ankle boot' for 9 on Fashion-MNIST."""
    return class_names(dataset)[int(label)]


def noun(dataset: str, plural: bool = False) -> str:
    """'digit' / 'digits' on MNIST, 'item' / 'items' on Fashion-MNIST, 'image' / 'images' otherwise
    (several data sets at once, or one not named here)."""
    return NOUNS.get(dataset, ("image", "images"))[1 if plural else 0]


def display_name(dataset: str) -> str:
    """'MNIST', 'Fashion-MNIST': the data set as a title names it."""
    return DISPLAY_NAMES.get(dataset, dataset)


def with_article(name: str) -> str:
    """'a 7', 'an 8', 'an 11', 'an ankle boot', 'a T-shirt': the indefinite article by sound.

    Numbers are read aloud: 8, 11, 18 and 80-89 start with a vowel sound, the rest of 0-99 do not.
    """
    if name[:1].isdigit():
        return f"{'an' if name.startswith('8') or name in ('11', '18') else 'a'} {name}"
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"
