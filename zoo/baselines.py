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
