"""The classic model a practitioner reaches for first, trained in the same run on the same split.

    from zoo import baselines
    block = baselines.svc_rbf(digits)     # settings chosen on validation, test touched once
    block["test_accuracy"], block["settings"], block["fit_seconds"]

Every recipe reports its zoo model beside one of these (``results.json``'s
``baseline`` block, the README table, the docs). Each baseline chooses its
settings on the validation split from a small grid, then scores the test split
once with the chosen ones, refit on the training split only (as the zoo model
is): the comparison is like for like. scikit-learn does the work; nothing here
imports Keras.
"""

from __future__ import annotations

import time


def arrays(split):
    """(inputs, labels) of an unbatched tf.data split as numpy arrays; text as Python strings."""
    import numpy as np

    inputs, labels = [], []
    for x, y in split.batch(4096).as_numpy_iterator():
        inputs.append(x)
        labels.append(y)
    inputs, labels = np.concatenate(inputs), np.concatenate(labels)
    if inputs.dtype.kind in ("O", "S"):
        inputs = np.array([text.decode("utf-8") if isinstance(text, bytes) else str(text) for text in inputs],
                          dtype=object)
    return inputs, labels


def choose(name: str, make, grid: list[dict], data, prepare=None) -> dict:
    """Fit ``make(**settings)`` for each settings of ``grid`` on train, keep the best on validation, test once.

    ``prepare(inputs)`` turns a split's inputs into what the estimator reads (e.g. flattened pixels).
    Returns the ``baseline`` block of results.json.
    """
    prepare = prepare or (lambda inputs: inputs)
    started = time.perf_counter()
    (x_train, y_train), (x_val, y_val) = arrays(data.train), arrays(data.validation)
    x_train, x_val = prepare(x_train), prepare(x_val)
    candidates = []
    for settings in grid:
        estimator = make(**settings).fit(x_train, y_train)
        candidates.append({"settings": settings, "validation_accuracy": round(float(estimator.score(x_val, y_val)), 4),
                           "estimator": estimator})
    best = max(candidates, key=lambda candidate: candidate["validation_accuracy"])  # first of equals: simplest
    x_test, y_test = arrays(data.test)
    test_accuracy = float(best["estimator"].score(prepare(x_test), y_test))
    shown = ", ".join(f"{key}={value}" for key, value in best["settings"].items())
    return {"name": name, "headline": f"{name}: test accuracy {test_accuracy:.4f} ({shown}, chosen on validation)",
            "settings": best["settings"], "validation_accuracy": best["validation_accuracy"],
            "test_accuracy": round(test_accuracy, 4), "fit_seconds": round(time.perf_counter() - started, 2),
            "chosen_on": "validation split",
            "candidates": [{key: value for key, value in candidate.items() if key != "estimator"}
                           for candidate in candidates]}


def majority_class(data) -> float:
    """The test accuracy of always answering the most common test label: the floor every model must clear."""
    import numpy as np

    labels = data.labels("test")
    return round(float(np.bincount(labels).max() / len(labels)), 4)


def _flat(inputs):
    return inputs.reshape(len(inputs), -1).astype("float32")


def logistic_regression(data) -> dict:
    """Standardized features, then logistic regression; the inverse regularisation C chosen on validation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return choose("standardized logistic regression",
                  lambda C: make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000)),
                  [{"C": C} for C in (0.01, 0.1, 1.0, 10.0, 100.0)], data, prepare=_flat)


def svc_rbf(data) -> dict:
    """A support vector machine with an RBF kernel on pixels scaled to [0, 1]; C chosen on validation."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler
    from sklearn.svm import SVC

    return choose("SVC (RBF kernel)", lambda C: make_pipeline(MinMaxScaler(), SVC(C=C, gamma="scale")),
                  [{"C": C} for C in (0.1, 1.0, 10.0, 100.0)], data, prepare=_flat)


def pixels_linear(data) -> dict:
    """A linear classifier on the raw pixels of the same labelled images (logistic regression)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return choose("logistic regression on raw pixels",
                  lambda C: make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000)),
                  [{"C": C} for C in (0.001, 0.01, 0.1, 1.0)], data, prepare=_flat)


def nearest_neighbours(data) -> dict:
    """k nearest neighbours with Euclidean distance on the raw series; k chosen on validation, 1 first.

    1-NN with Euclidean distance is time-series classification's standard baseline (the UCR
    archive reports it for every set); a larger k is kept only where validation prefers it.
    """
    from sklearn.neighbors import KNeighborsClassifier

    return choose("nearest neighbours (Euclidean distance)", lambda k: KNeighborsClassifier(n_neighbors=k),
                  [{"k": k} for k in (1, 3, 5)], data, prepare=_flat)


def tfidf_linear_svc(data) -> dict:
    """TF-IDF of word n-grams (sublinear term frequency) and a linear SVM; n-grams and C chosen on validation."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return choose("TF-IDF word n-grams + linear SVM",
                  lambda ngrams, C: make_pipeline(TfidfVectorizer(ngram_range=(1, ngrams), sublinear_tf=True),
                                                  LinearSVC(C=C)),
                  [{"ngrams": n, "C": C} for n in (1, 2) for C in (0.1, 0.3, 1.0, 3.0)], data)


def digits_then_sum(images, sequences) -> dict:
    """An SVM names each digit of a sequence, and the names are added: the classic pipeline for sums.

    It is trained on the single digits of ``images`` (``zoo.data.summed_sequences``'s source)
    with their own labels, which a model trained on ``sequences`` never sees: that model
    learns from the sums alone. C is chosen on the validation sequences' sums.
    """
    import numpy as np
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler
    from sklearn.svm import SVC

    started = time.perf_counter()
    values = np.array([int(name) for name in images.class_names])
    x_train, y_train = arrays(images.train)

    def sum_accuracy(estimator, split):
        x, sums = arrays(getattr(sequences, split))
        digits = estimator.predict(_flat(x.reshape(-1, *x.shape[2:]))).reshape(len(x), -1)
        return float((values[digits].sum(axis=1) == sums).mean())

    candidates = []
    for C in (0.1, 1.0, 10.0, 100.0):
        estimator = make_pipeline(MinMaxScaler(), SVC(C=C, gamma="scale")).fit(_flat(x_train), y_train)
        candidates.append({"settings": {"C": C}, "validation_accuracy": round(sum_accuracy(estimator, "validation"), 4),
                           "estimator": estimator})
    best = max(candidates, key=lambda candidate: candidate["validation_accuracy"])
    test_accuracy = sum_accuracy(best["estimator"], "test")
    x_test, y_test = arrays(images.test)
    name = "SVC (RBF kernel) on each digit, then the sum"
    return {"name": name, "headline": f"{name}: test accuracy {test_accuracy:.4f} (C={best['settings']['C']}, "
                                      "chosen on validation; trained with each digit's label)",
            "settings": best["settings"], "validation_accuracy": best["validation_accuracy"],
            "test_accuracy": round(test_accuracy, 4),
            "digit_test_accuracy": round(float(best["estimator"].score(_flat(x_test), y_test)), 4),
            "labels": "each digit's own label (the zoo model sees only the sums)",
            "fit_seconds": round(time.perf_counter() - started, 2), "chosen_on": "validation split",
            "candidates": [{key: value for key, value in candidate.items() if key != "estimator"}
                           for candidate in candidates]}


class CharacterNGram:
    """Interpolated Kneser-Ney character n-gram models of every order up to ``order``, fitted on one text.

    The classic language model (Chen & Goodman, 1998): the probability of the next
    character after a context of n-1 characters is its discounted count there, plus
    a share of the held-back mass spread by the model of one order lower, down to a
    uniform choice over the vocabulary. Lower orders count how many different
    characters precede a string (continuation counts), not how often it occurs.
    The discount of each order is the usual estimate from its counts of counts,
    n1 / (n1 + 2 n2). Written here because nltk.lm's KneserNeyInterpolated took about
    10 ms per character scored (measured on this text), minutes per validation pass.
    """

    def __init__(self, text: str, vocabulary: tuple, order: int):
        import collections

        import numpy as np

        self.order, self.size = order, len(vocabulary)
        self.index = {character: position for position, character in enumerate(vocabulary) if character}
        ids = [self.index[character] for character in text]
        # raw[k][context of k characters] -> Counter of the next character's id
        raw = [collections.defaultdict(collections.Counter) for _ in range(order)]
        for end in range(len(ids)):
            for k in range(min(order, end + 1)):
                raw[k][text[end - k:end]][ids[end]] += 1
        # continuation[k][context] -> Counter: distinct characters seen before (context + next) in the text
        continuation = [collections.defaultdict(collections.Counter) for _ in range(order)]
        for k in range(1, order):
            for context, following in raw[k].items():
                for character in following:
                    continuation[k - 1][context[1:]][character] += 1
        self.tables = [[self._table(level[k]) for k in range(order)] for level in (raw, continuation)]
        self.discounts = []
        for k in range(order):
            counts = np.concatenate([np.asarray(list(c.values())) for c in raw[k].values()] or [np.zeros(1)])
            n1, n2 = (counts == 1).sum(), (counts == 2).sum()
            self.discounts.append(float(n1 / (n1 + 2 * n2)) if n1 + n2 else 0.75)

    @staticmethod
    def _table(level):
        import numpy as np

        return {context: (np.fromiter(following.keys(), "int64"), np.fromiter(following.values(), "float64"))
                for context, following in level.items()}

    def _level(self, previous, tables, k, context):
        """One interpolation step: level ``k``'s discounted counts over ``previous`` (level k-1's distribution)."""
        entry = tables[k].get(context[len(context) - k:]) if len(context) >= k else None
        if entry is None:   # a context never seen (or shorter than k): level k adds nothing
            return previous
        ids, counts = entry
        total, discount = counts.sum(), self.discounts[k]
        mixed = previous * (discount * len(ids) / total)
        mixed[ids] += (counts - discount).clip(0) / total
        return mixed

    def distributions(self, context: str) -> list:
        """The next character's distribution after ``context`` under the model of each order 1..``order``."""
        import numpy as np

        raw, continuation = self.tables
        uniform = np.full(self.size, 1.0 / (self.size - 1))
        uniform[0] = 0.0   # the padding id is never a character
        chain, out = uniform, []
        for k in range(self.order):
            # The model of order k+1 tops the lower orders' continuation chain with raw counts of level k.
            out.append(self._level(chain, raw, k, context))
            chain = self._level(chain, continuation, k, context)
        return out


def logs(probabilities):
    """Natural logs of probabilities, a zero taken as 1e-300 (log -690.8), so no sum becomes infinite."""
    import numpy as np

    return np.log(np.maximum(probabilities, 1e-300))


def tempered(log_probabilities, temperature: float):
    """Log-probabilities at ``temperature``: each row's ``log p / T``, renormalised (p ** (1/T), summing to 1).

    For a model's softmax this is the softmax of its logits divided by T.
    """
    import numpy as np

    scaled = log_probabilities / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    return scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))


def best_temperature(log_probabilities, ids, temperatures) -> tuple:
    """Temperature scaling's choice: ``(T, {T: bits per character})``, T the one with the fewest bits.

    ``log_probabilities`` (characters x vocabulary) are a model's log-probabilities of every
    character at each scored position, ``ids`` the characters that came. At temperature T
    each position's distribution is ``p ** (1 / T)``, renormalised: the softmax of the logits
    divided by T. Of equal scores, the temperature nearest 1 (the model as it is).
    """
    import numpy as np

    rows = np.arange(len(ids))
    found = {temperature: float(-tempered(log_probabilities, temperature)[rows, ids].mean() / np.log(2))
             for temperature in temperatures}
    return min(temperatures, key=lambda temperature: (found[temperature], abs(temperature - 1))), found


# Weights of the n-gram on other text where it is interpolated with the one on the training part (extra_text).
EXTRA_WEIGHTS = tuple(step / 20 for step in range(1, 20))


def character_ngram(texts: dict, vocabulary: tuple, targets: dict, orders=range(1, 9), chances=None,
                    temperatures=(1.0,), extra_text: str | None = None) -> dict:
    """An interpolated Kneser-Ney character n-gram model; its order and temperature chosen on validation bits.

    ``texts`` holds each split's text; ``targets[split]`` is how many characters of the split,
    after its first, are scored (those the zoo model predicts). Each is predicted from the
    characters before it in its split, up to order - 1 of them. For each order, the
    temperature of ``temperatures`` with the fewest validation bits (``best_temperature``):
    the zoo model's own calibration, given to the baseline too. Returns the ``baseline``
    block: bits per character and next-character accuracy on test, with the chosen settings.
    ``chances``, a dict, receives the chosen model's probability of each scored character of
    the validation and test splits, in text order (numpy arrays): to mix with another model.

    ``extra_text``, other text the zoo model also read (its pretraining), is given to the
    baseline too, as a practitioner would use it: a second n-gram counted on it, averaged
    with the first, ``(1 - w) * p_train + w * p_extra`` (linear interpolation of language
    models). The two orders and w (``EXTRA_WEIGHTS``) are chosen on validation bits, then
    the temperature; the pair is kept only where it beats the best n-gram on the training
    part alone there.
    """
    import itertools

    import numpy as np

    started = time.perf_counter()
    orders = list(orders)
    model = CharacterNGram(texts["train"], vocabulary, max(orders))
    other = CharacterNGram(extra_text, vocabulary, max(orders)) if extra_text else None

    def score(split, columns, counted=model):
        """(probabilities of every character, the characters that came): ``columns`` orders' models."""
        text, found = texts[split], np.empty((len(columns), targets[split], counted.size))
        ids = np.array([counted.index[character] for character in text[1:targets[split] + 1]])
        for row, position in enumerate(range(1, targets[split] + 1)):
            every_order = counted.distributions(text[max(0, position - counted.order + 1):position])  # one pass
            found[:, row] = [every_order[orders[column] - 1] for column in columns]
        return found, ids

    found, validation_ids = score("validation", range(len(orders)))
    validation = logs(found)
    candidates = []
    for n, log_probabilities in zip(orders, validation):
        temperature, bits = best_temperature(log_probabilities, validation_ids, temperatures)
        candidates.append({"settings": {"order": n, "temperature": temperature},
                           "validation_bits_per_character": round(bits[temperature], 4)})
    if other is not None:
        found_other, _ = score("validation", range(len(orders)), other)
        rows = np.arange(len(validation_ids))
        right, right_other = found[:, rows, validation_ids], found_other[:, rows, validation_ids]
        n, n_other, weight = min(
            itertools.product(range(len(orders)), range(len(orders)), EXTRA_WEIGHTS),
            key=lambda chosen: -np.log2((1 - chosen[2]) * right[chosen[0]] + chosen[2] * right_other[chosen[1]]).mean())
        mixed = logs((1 - weight) * found[n] + weight * found_other[n_other])
        temperature, bits = best_temperature(mixed, validation_ids, temperatures)
        candidates.append({"settings": {"order": orders[n], "extra_order": orders[n_other], "extra_weight": weight,
                                        "temperature": temperature},
                           "validation_bits_per_character": round(bits[temperature], 4)})
    best = min(candidates, key=lambda candidate: candidate["validation_bits_per_character"])
    settings = best["settings"]
    order, temperature = settings["order"], settings["temperature"]

    (test,), test_ids = score("test", [orders.index(order)])
    if "extra_order" in settings:
        (test_other,), _ = score("test", [orders.index(settings["extra_order"])], other)
        test = (1 - settings["extra_weight"]) * test + settings["extra_weight"] * test_other
    test = np.exp(tempered(logs(test), temperature))
    test_chances = test[np.arange(len(test_ids)), test_ids]
    test_bits = float(-np.log2(test_chances).mean())
    if chances is not None:
        if "extra_order" in settings:
            chosen = logs((1 - settings["extra_weight"]) * found[orders.index(order)]
                          + settings["extra_weight"] * found_other[orders.index(settings["extra_order"])])
        else:
            chosen = validation[orders.index(order)]
        chosen = np.exp(tempered(chosen, temperature))
        chances.update(validation=chosen[np.arange(len(validation_ids)), validation_ids], test=test_chances)
    name = "character n-gram (interpolated Kneser-Ney)"
    shown = f"order {order}" + (f", with an order-{settings['extra_order']} n-gram on the extra text at weight "
                                f"{settings['extra_weight']}" if "extra_order" in settings else "")
    shown += f", temperature {temperature}" if len(temperatures) > 1 else ""
    return {"name": name,
            "headline": f"{name}: test {test_bits:.4f} bits per character ({shown}, chosen on validation)",
            "settings": settings, "validation_bits_per_character": best["validation_bits_per_character"],
            "test_bits_per_character": round(test_bits, 4),
            "test_accuracy": round(float((test.argmax(axis=1) == test_ids).mean()), 4),
            "fit_seconds": round(time.perf_counter() - started, 2), "chosen_on": "validation split",
            "candidates": candidates, **({"extra_characters": len(extra_text)} if other is not None else {})}


def date_parser(dates) -> dict:
    """python-dateutil's parser, the tool a programmer reaches for: written dates to ISO, no learning.

    ``dates`` is a ``zoo.data.Dates``; its ``texts`` hold each split's (written, ISO) pairs.
    Two settings are chosen on the validation dates' exact-match accuracy: whether numbers
    are read day first (never, always, or when the date is written with dots), and which
    century a two-digit year gets (dateutil's: within 50 years of today; or the data's,
    50-99 as 19xx and 00-49 as 20xx). Returns the ``baseline`` block, scored on test once.
    """
    import datetime
    import itertools

    from dateutil import parser

    def iso(written, dayfirst, century):
        # dateutil's own century rule moves with today's date; the data's does not.
        try:
            day = parser.parse(written, dayfirst=written.count(".") > 0 if dayfirst == "with dots" else dayfirst,
                               fuzzy=True, default=datetime.datetime(2000, 1, 1)).date()
        except (ValueError, OverflowError):
            return None   # a written form the parser cannot read counts as wrong
        if century == "1950-2049" and str(day.year) not in written:   # the year was written with two digits
            day = day.replace(year=(1900 if day.year % 100 >= 50 else 2000) + day.year % 100)
        return day.isoformat()

    def exact(split, settings):
        pairs = dates.texts[split]
        return sum(iso(written, **settings) == answer for written, answer in pairs) / len(pairs)

    started = time.perf_counter()
    candidates = [{"settings": {"dayfirst": dayfirst, "century": century},
                   "validation_exact_match": round(exact("validation", {"dayfirst": dayfirst, "century": century}), 4)}
                  for dayfirst, century in itertools.product((False, True, "with dots"), ("dateutil", "1950-2049"))]
    best = max(candidates, key=lambda candidate: candidate["validation_exact_match"])   # first of equals
    test = exact("test", best["settings"])
    name = "python-dateutil parser"
    shown = ", ".join(f"{key}={value}" for key, value in best["settings"].items())
    return {"name": name, "headline": f"{name}: test exact match {test:.4f} ({shown}, chosen on validation)",
            "settings": best["settings"], "validation_exact_match": best["validation_exact_match"],
            "test_exact_match": round(test, 4), "fit_seconds": round(time.perf_counter() - started, 2),
            "chosen_on": "validation split", "candidates": candidates}
