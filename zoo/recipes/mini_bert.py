"""Recipe: BERT-style pretraining, then the same review classifier with and without it.

    python -m zoo.recipes.mini_bert                # the packages' unlabelled text + Rotten Tomatoes, offline
    python -m zoo.recipes.mini_bert --quick        # a smoke test
    python -m zoo.recipes.mini_bert --tune random --max-trials 6    # searches the pretraining model
    zoo predict runs/mini_bert --text "a gorgeous, moving film" --text "dull and far too long"

The story: labels are scarce, text is not. Before it sees a single label, the
mini_transformer's encoder reads about 600,000 words of English that the installed
packages ship (film synopses, convention speeches, debates, headlines, Hamlet)
and the training reviews, with 15% of the words of each passage hidden behind a
mask token, and learns to name them from the words on both sides (Devlin et
al., 2019): which words go together, which fit a sentence. None of that text is
a validation or test review. Its encoder is then copied into a mini_transformer
and fine-tuned on the labelled training reviews; the same classifier, started
from random weights on the same reviews and budget, is the comparison arm, and
a TF-IDF + linear SVM, settings chosen on validation, is the baseline. As in
the sentiment recipes, each arm's classifier is then averaged with a wide
model, one linear layer over the TF-IDF of word 1-2-grams and character
1-5-grams (``zoo.recipes.sentiment``), trained once and shared by both arms,
so the arms still differ only by the pretraining; each part is also scored
alone on validation. The measure is test accuracy on the sentiment recipes'
split (so the numbers stand beside lstm_sentiment's and mini_transformer's).
Every setting below was chosen on validation data (the exploration is listed
beside them; the wide model's choice is in benchmarks/results/choices_mini_bert.json).
The attention picture (attention.json) is the fine-tuned classifier's, as in
mini_transformer. Writes results.json, model.keras (the pretrained arm, the
classifier averaged with the wide model, scoring raw strings), pretrained.keras
(the masked-token model), history*.csv, curves*.png and TensorBoard logs to --out.
"""

from __future__ import annotations

import dataclasses

from zoo import model_card
from zoo.recipes import sentiment

# Flags and their defaults, with the reason beside each. The pretraining settings come from a first exploration
# on validation (seed 0), not kept in benchmarks/results/choices_*.json; each line is the fine-tuned classifiers'
# validation accuracy, pretrained / from scratch (the vocabulary changes with the settings, so scratch does too):
#   20,000 words, softmax over all of them, 3 epochs at 1e-3 (81 s each): 0.758 / 0.764
#   8,000 words, 6 epochs at 2e-3: 0.757 / 0.752; fine-tuned at 3e-4 instead of 1e-3: 0.751
#   5,000 words, 10 epochs at 2e-3: 0.736 / 0.731; the embedding frozen while fine-tuning: 0.637
#   20,000 words, softmax over the 5,000 most frequent, 6 epochs at 2e-3 (35 s each): 0.761 / 0.764;
#     fine-tuned at 5e-4: 0.747
#   the same on the film synopses and training reviews alone, 4 copies: 0.749 / 0.778
# The defaults are the best pretrained classifier's (0.761): on this little text, pretraining does not beat
# training from scratch (the page says so). Alone, it also loses to the TF-IDF + linear SVM; averaged with the
# wide model (WIDE_NGRAMS, WIDE_CHARACTERS below), it wins.
DATASETS = ("rotten_tomatoes",)   # the labelled reviews
UNLABELLED = "all"         # the unlabelled text pretraining reads besides the training reviews: zoo.data.UNLABELLED
MODEL = dict(embed_dim=64, num_heads=2, ff_dim=128, num_layers=1, dropout=0.1)   # mini_transformer's recipe's
EPOCHS = 20                # fine-tuning: early stopping ends it after a few epochs
BATCH_SIZE = 32
LEARNING_RATE = 1e-3       # fine-tuning, both arms (Adam)
PRETRAIN_EPOCHS = 8        # passes over the masked copies; early stopping ends it after about 6
PRETRAIN_BATCH_SIZE = 64
PRETRAIN_LEARNING_RATE = 2e-3
MASK_RATE = 0.15           # BERT's share of hidden tokens
COPIES = 2                 # differently masked copies of each passage (BERT made 10)
WINDOW_WORDS = 40          # long documents are cut into passages of this many words
MAX_TOKENS = 20_000        # vocabulary, padding and out-of-vocabulary included; the mask token is one more
PREDICTED_TOKENS = 5_000   # the pretraining softmax covers the most frequent 5,000 (3x faster); rarer words are context
SEQUENCE_LENGTH = 48       # the sentiment recipes' length: reviews are short
PATIENCE = 3               # fine-tuning epochs without a better validation accuracy before stopping
PRETRAIN_PATIENCE = 2      # pretraining epochs without a better validation loss (on masked validation reviews)
SEED = 0
QUICK_EPOCHS = 1
QUICK_PRETRAIN_EPOCHS = 1
QUICK_PASSAGES = 1_000     # --quick pretrains on this many passages and fine-tunes on sentiment's subset
# Each arm's classifier is averaged with the sentiment recipes' wide model (one linear layer over TF-IDF n-grams,
# zoo.recipes.sentiment), the same for both arms. Chosen on validation (benchmarks/results/choices_mini_bert.json):
# the pretrained classifier alone 0.7551, averaged with word 1-2-grams 0.7678, with character 1-5-grams too 0.7922;
# three classifiers from three seeds, averaged with that wide model, 0.7824.
MEMBERS = 1                # classifiers per arm, each fine-tuned from its own seed and averaged
WIDE_NGRAMS = 2            # the wide model's longest word n-gram; 0: the classifier alone
WIDE_CHARACTERS = 5        # the wide model also reads character 1..5-grams
WIDE = sentiment.Settings(recipe="mini_transformer", model=MODEL, wide_ngrams=WIDE_NGRAMS,
                          wide_characters=WIDE_CHARACTERS)
JIT_COMPILE = "auto"       # Keras's choice, off on CPUs: forced on, the pretraining model trained 0.26x as fast (speed.json)
# The limit pretraining adds to the classifier's (and to the average's with a wide model: ``use``).
PRETRAINING_LIMIT = ("Its pretraining text is US political speech, news headlines, film synopses and Hamlet: what "
                     "it learned of English is that text's, with its topics and its biases.")
USE = model_card.Use(
    intended_use=("Teaching: what self-supervised pretraining on unlabelled text adds to a small Transformer "
                  "classifier, measured against the same classifier trained from scratch on the same reviews."),
    limits=(*sentiment.LIMITS, PRETRAINING_LIMIT),
    written_for={"dataset": "rotten_tomatoes", "sequence_length": 48},
)


def sources(text: str) -> tuple:
    """--unlabelled: "all", "none" or comma-separated names of zoo.data.UNLABELLED, as a tuple of names."""
    import argparse

    from zoo import data

    if text in ("all", "none"):
        return tuple(data.UNLABELLED) if text == "all" else ()
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in data.UNLABELLED]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"--unlabelled={text}: {', '.join(unknown) or 'no name'} is not unlabelled "
                                         f"text the zoo knows; use all, none, or some of {', '.join(data.UNLABELLED)}")
    return names


def parse_args(argv=None):
    from zoo import command, data

    parser = command.recipe_parser("mini_bert", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED, datasets=DATASETS,
        kinds=("text",), classes=2, quick={"epochs": QUICK_EPOCHS, "pretrain_epochs": QUICK_PRETRAIN_EPOCHS,
                                           "members": 1},
        jit_compile=JIT_COMPILE))
    parser.add_argument("--sequence-length", type=command.integer("--sequence-length", 2, 100_000),
                        default=SEQUENCE_LENGTH, help="token ids per text: longer ones are cut, shorter ones padded "
                                                      "(default: %(default)s)")
    parser.add_argument("--max-tokens", type=command.integer("--max-tokens", 3, 10_000_000), default=MAX_TOKENS,
                        help="vocabulary size, padding and out-of-vocabulary ids included (default: %(default)s)")
    parser.add_argument("--unlabelled", type=sources, default=UNLABELLED,
                        help="unlabelled text to pretrain on besides the training reviews, comma-separated among "
                             f"{', '.join(data.UNLABELLED)}; all, or none (default: %(default)s)")
    parser.add_argument("--pretrain-epochs", type=command.integer("--pretrain-epochs", 0, 10_000),
                        default=PRETRAIN_EPOCHS, help="passes over the masked unlabelled text; 0: no pretraining "
                                                      "(default: %(default)s)")
    parser.add_argument("--pretrain-learning-rate", type=command.number("--pretrain-learning-rate", 0, above=True),
                        default=PRETRAIN_LEARNING_RATE, help="Adam's step size while pretraining "
                                                             "(default: %(default)s)")
    parser.add_argument("--mask-rate", type=command.number("--mask-rate", 0, 1, above=True, below=True),
                        default=MASK_RATE, help="share of each passage's tokens hidden (default: %(default)s)")
    parser.add_argument("--skip-scratch", action="store_true",
                        help="do not train the same classifier from random weights (the comparison arm)")
    parser.add_argument("--members", type=command.integer("--members", 1, 16), default=MEMBERS,
                        help="classifiers fine-tuned from different seeds in each arm, and averaged "
                             "(default: %(default)s)")
    sentiment.add_wide_flags(parser, WIDE)
    return command.parse(parser, argv, check=sentiment.needs_wide_model)


def passages(texts, words: int = WINDOW_WORDS) -> list[str]:
    """Each text cut into passages of at most ``words`` whitespace-separated words, in order."""
    cut = []
    for text in texts:
        tokens = text.split()
        cut.extend(" ".join(tokens[start:start + words]) for start in range(0, len(tokens), words))
    return cut


def hide_tokens(ids, rng, rate: float, max_predictions: int, mask_id: int, predicted_tokens: int | None = None):
    """BERT's masking: ``(ids with hidden tokens, their ids in reading order, weights)``.

    In each row, ``rate`` of the real tokens (at least 1, at most ``max_predictions``),
    chosen at random, become ``mask_id``; the targets list their ids, and 0 with
    weight 0 in the slots left over. (BERT also leaves 10% of the chosen tokens as
    they were and swaps 10% for random ones; its authors measured fine-tuning with
    every chosen token masked within 0.3 points, and the zoo's model reads only
    the mask token's position: ``zoo.layers.MaskedPositions``.)
    """
    import numpy as np

    hidden, targets = ids.copy(), np.zeros((len(ids), max_predictions), dtype="int32")
    for row, tokens in enumerate(ids):
        real = np.flatnonzero(tokens)
        count = min(max_predictions, max(1, int(round(rate * len(real)))), len(real))
        chosen = np.sort(rng.choice(real, size=count, replace=False))
        targets[row, :count] = tokens[chosen]
        hidden[row, chosen] = mask_id
    if predicted_tokens is not None:   # hidden words the softmax does not cover: hidden, but not scored
        targets[targets >= predicted_tokens] = 0
    return hidden, targets, (targets > 0).astype("float32")


def max_predictions(args) -> int:
    import math

    return max(1, math.ceil(args.mask_rate * args.sequence_length))


def pretraining_data(args, unlabelled, reviews, vectorizer, mask_id):
    """A ``zoo.data.Dataset`` of masked passages: train from the unlabelled text and the training reviews,
    validation from the validation reviews (their words only, never their labels)."""
    import numpy as np
    import tensorflow as tf

    from zoo import data

    rng = np.random.default_rng(args.seed)
    to_ids = lambda texts: np.concatenate([vectorizer(np.array(texts[start:start + 4096], dtype=object)).numpy()  # noqa: E731
                                           for start in range(0, len(texts), 4096)])
    train_ids = to_ids(unlabelled)
    train_ids = train_ids[(train_ids > 0).sum(axis=1) >= 2]   # a passage needs a word to hide and one to read
    validation_ids = to_ids([text.decode() for text in reviews.validation.map(lambda t, _: t).as_numpy_iterator()])
    validation_ids = validation_ids[(validation_ids > 0).sum(axis=1) >= 2]
    slots = max_predictions(args)
    copies = [hide_tokens(train_ids, rng, args.mask_rate, slots, mask_id, PREDICTED_TOKENS) for _ in range(COPIES)]
    train = [np.concatenate(parts) for parts in zip(*copies)]
    validation = hide_tokens(validation_ids, rng, args.mask_rate, slots, mask_id, PREDICTED_TOKENS)
    split = lambda arrays: tf.data.Dataset.from_tensor_slices((arrays[0], (arrays[1], arrays[2])))  # noqa: E731
    return data.Dataset(name="unlabelled_text_masked", kind="masked_text", train=split(train),
                        validation=split(validation), test=None, num_classes=int(mask_id) + 1,
                        class_names=tuple(vectorizer.get_vocabulary()) + ("[MASK]",),
                        input_shape=(args.sequence_length,),
                        sizes={"train": len(train[0]), "validation": len(validation[0]), "passages": len(train_ids)},
                        source="; ".join([*(data.UNLABELLED[name] for name in args.unlabelled),
                                          "the training reviews"]))


def commonest_word_accuracy(masked) -> float:
    """The floor for naming hidden words: always answering the word hidden most often in training."""
    import numpy as np

    def targets(split):
        found = [labels[0][labels[1] > 0] for _, labels in getattr(masked, split).batch(8192).as_numpy_iterator()]
        return np.concatenate(found)

    commonest = np.bincount(targets("train")).argmax()
    return round(float((targets("validation") == commonest).mean()), 4)


def weighted(ids, labels):
    """(ids, (targets, weights)) -> (ids, targets, weights): Keras weighs each slot's loss and accuracy."""
    return ids, labels[0], labels[1]


def bert_arguments(args, mask_id, hp=None) -> dict:
    """The recipe's mini_bert arguments: its sizes (or a search's), the vocabulary's and the masking's."""
    import zoo

    return {**MODEL, **(zoo.info("mini_bert").search_space(hp) if hp else {}), "vocab_size": mask_id + 1,
            "sequence_length": args.sequence_length, "max_predictions": max_predictions(args), "mask_id": mask_id,
            "predicted_tokens": min(PREDICTED_TOKENS, mask_id + 1)}


def build_pretraining(args, mask_id, hp=None):
    import keras

    import zoo
    from zoo import command, tuning

    model = zoo.get("mini_bert", **bert_arguments(args, mask_id, hp))
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, args.pretrain_learning_rate)),
                  # The mean over the hidden tokens: slots left over weigh 0 and do not dilute it.
                  loss=keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight"),
                  weighted_metrics=["accuracy"],
                  jit_compile=command.jit_compile(args))
    return model


def vocabulary(args, reviews):
    """(the passages pretraining reads, a TextVectorization adapted on them): one vocabulary for both arms.

    The passages are the unlabelled text cut into WINDOW_WORDS-word pieces and the training reviews;
    the token id after the vectorizer's last is the mask token.
    """
    import keras
    import tensorflow as tf

    from zoo import data

    unlabelled = passages(text for texts in data.unlabelled_texts(args.unlabelled).values() for text in texts)
    texts = (unlabelled[:QUICK_PASSAGES] if args.quick else unlabelled) + [
        text.decode() for text in reviews.train.map(lambda text, _: text).as_numpy_iterator()]
    vectorizer = keras.layers.TextVectorization(max_tokens=args.max_tokens, name="vectorizer",
                                                output_sequence_length=args.sequence_length)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(4096))
    return texts, vectorizer


def pretrain(args, run, reviews, texts, vectorizer):
    """Masked-token pretraining on ``texts``: (mini_bert, or None without --pretrain-epochs; its numbers; best hp)."""
    mask_id = vectorizer.vocabulary_size()
    masked = pretraining_data(args, texts, reviews, vectorizer, mask_id)
    best = run.tune(lambda hp: build_pretraining(args, mask_id, hp), masked,
                    batch_size=PRETRAIN_BATCH_SIZE, transform=weighted, patience=PRETRAIN_PATIENCE)
    if not args.pretrain_epochs:
        return None, {}, best
    with run.scope():
        model = build_pretraining(args, mask_id, best)
    fitted = run.fit(model, masked, batch_size=PRETRAIN_BATCH_SIZE, epochs=args.pretrain_epochs, transform=weighted,
                     patience=PRETRAIN_PATIENCE, tag="pretraining")
    _, accuracy = model.evaluate(masked.evaluation_batches("validation", 256, weighted), verbose=0)
    return model, {"passages": masked.sizes["passages"], "words": sum(len(text.split()) for text in texts),
                   "masked_copies": COPIES, "mask_rate": args.mask_rate,
                   "validation_hidden_word_accuracy": round(float(accuracy), 4),
                   "validation_commonest_word_accuracy": commonest_word_accuracy(masked),
                   "epochs_run": fitted.epochs_run,
                   "best_epoch": fitted.best_epoch, "seconds": round(fitted.seconds, 1)}, best


def fine_tune(args, run, reviews, vectorizer, arguments, pretrained=None, wide=None):
    """One arm: ``--members`` mini_transformers, each with its encoder copied from ``pretrained`` (or random),
    fitted from its own seed, averaged, and scored.

    With ``wide`` (the wide model and its text vectorizers, ``sentiment.train_wide``) the classifiers are
    averaged with it, and each part alone is scored on validation (the test split scores the average only).
    Returns (the first classifier, what is scored on test and served, the arm's numbers).
    """
    import keras

    from zoo.models.bert import copy_encoder

    arm = "pretrained" if pretrained is not None else "scratch"
    to_ids = lambda text, label: (vectorizer(text), label)  # noqa: E731
    classifiers, fits = [], []
    for member in range(args.members):
        keras.utils.set_random_seed(args.seed + member)   # both arms: the same heads, dropout and batches
        with run.scope():   # the sentiment recipes' classifier, built and compiled as they build theirs
            model = sentiment.build(sentiment.Settings(recipe="mini_transformer", model=arguments), args,
                                    vectorizer.vocabulary_size() + 1, reviews.num_classes,
                                    name=f"mini_transformer_{arm}" + (f"_{member + 1}" if member else ""))
        copied = copy_encoder(pretrained, model) if pretrained is not None else []
        fits.append(run.fit(model, reviews, batch_size=args.batch_size, epochs=args.epochs, transform=to_ids,
                            tag=arm + (f"_member_{member + 1}" if member else ""), monitor="val_accuracy",
                            patience=PATIENCE))
        classifiers.append(model)
    models = [*classifiers, *([wide[0]] if wide else [])]
    inputs = sentiment.ensemble_inputs(vectorizer, **(wide[1] if wide else {}))
    alone = {}
    if wide is not None:
        parts = sentiment.arms(run, models, reviews, inputs, has_wide=True)   # validation only
        alone = {"classifier_alone_validation_accuracy": parts["sequence_models"],
                 "wide_model_alone_validation_accuracy": parts["wide_model"]}
    if len(models) == 1:
        served, scores = models[0], run.evaluate(models[0], reviews, transform=to_ids)
    else:
        served = sentiment.ensemble(models, args, has_wide=wide is not None)
        scores = run.evaluate(sentiment.scorer(served), reviews, transform=inputs)
    return classifiers[0], served, {
        **scores, **alone, "copied_layers": copied, "members": args.members, "epochs_run": fits[0].epochs_run,
        "best_epoch": fits[0].best_epoch, "seconds": round(sum(fit.seconds for fit in fits), 1),
        "params": int(classifiers[0].count_params())}


def summary(arms: dict, pretraining: dict) -> dict:
    """results.json's metrics: the pretrained arm's (the scratch one's without pretraining), and both arms."""
    main = arms.get("pretrained") or arms["scratch"]
    metrics = {key: main[key] for key in ("test_accuracy", "test_loss", "validation_accuracy")}
    if len(arms) == 2:
        metrics["accuracy_gain_over_scratch"] = round(arms["pretrained"]["test_accuracy"]
                                                      - arms["scratch"]["test_accuracy"], 4)
    return {**metrics, "arms": arms, **({"pretraining": pretraining} if pretraining else {})}


def main(argv=None):
    args = parse_args(argv)
    from zoo import baselines, data
    from zoo.recipes.mini_transformer import attention_report
    from zoo.runs import Run

    with Run("mini_bert", args) as run:
        # Data: the sentiment recipes' three splits; test is touched once, at the end of each arm.
        reviews = data.load(args.dataset, seed=args.seed, test_fraction=sentiment.TEST_FRACTION, kinds=("text",),
                            validation_fraction=sentiment.VALIDATION_FRACTION,
                            train_size=sentiment.QUICK_TRAIN_SIZE if args.quick else None)
        # 1. One vocabulary from the text pretraining reads; 2. masked-token pretraining (optional search first).
        texts, vectorizer = vocabulary(args, reviews)
        pretrained, pretraining, best = pretrain(args, run, reviews, texts, vectorizer)
        # 3. The wide model both arms are averaged with (unless --wide-ngrams 0), then the classifier, its encoder
        # copied from the pretrained model, and the same classifier from scratch.
        wide = sentiment.train_wide(WIDE, args, run, reviews, vectorizer) if args.wide_ngrams else None
        sizes = bert_arguments(args, vectorizer.vocabulary_size(), best)
        arguments = {key: sizes[key] for key in MODEL}   # the encoder's sizes, the classifier's too
        arms, kept = {}, {}
        for arm, source in (("pretrained", pretrained), ("scratch", None)):
            if (arm == "pretrained" and pretrained is None) or (arm == "scratch" and args.skip_scratch and pretrained):
                continue
            *kept[arm], arms[arm] = fine_tune(args, run, reviews, vectorizer, arguments, source, wide)
        classifier, served = kept.get("pretrained") or kept["scratch"]
        # 4. Save what scores raw strings (and the pretrained model); attention.json from the kept classifier.
        texts_in = wide[1] if wide else {}   # the wide model's text vectorizers, if any
        run.save_model(sentiment.raw_text_model(vectorizer, texts_in.get("ngrams"), served, texts_in.get("characters")))
        if pretrained is not None:
            run.save_model(pretrained, "pretrained.keras")
        extra = attention_report(run, classifier, vectorizer, reviews) if run.is_chief else {}
        metrics = {**summary(arms, pretraining), "majority_class_baseline": baselines.majority_class(reviews)}
        run.finish(metrics, data=reviews, baseline=baselines.tfidf_linear_svc(reviews), use=use(args), **extra,
                   model=described(args, sizes, classifier, served, arms),
                   headline=headline(args, arms, metrics, reviews))
    return metrics["test_accuracy"]


def use(args) -> model_card.Use:
    """The model card's text: the classifier's limits, or the average's with a wide model."""
    return USE if not args.wide_ngrams else dataclasses.replace(USE, limits=(*sentiment.ENSEMBLE_LIMITS,
                                                                            PRETRAINING_LIMIT))


def described(args, sizes: dict, classifier, served, arms: dict) -> dict:
    """results.json's "model": the mini_bert's arguments, what the classifier is, the wide model's settings and,
    with one, the kept arm's parts alone on validation (the recipe pages' "Each part alone")."""
    wide = {"wide_ngrams": args.wide_ngrams, "wide_characters": args.wide_characters, "thesaurus": args.thesaurus}
    kept = arms.get("pretrained") or arms["scratch"]
    parts = {part: kept[f"{part}_alone_validation_accuracy"] for part in ("classifier", "wide_model")
             if f"{part}_alone_validation_accuracy" in kept}
    return {"arguments": sizes, "classifier": "mini_transformer of the same sizes", "members": args.members, **wide,
            "params": int(classifier.count_params()), "params_served": int(served.count_params()),
            **({"validation_accuracy_alone": parts} if parts else {})}


def headline(args, arms: dict, metrics: dict, reviews) -> str:
    """'test accuracy 0.7900 vs 0.7850 from scratch on 2,562 held-out reviews after pretraining, ...'."""
    versus = f" vs {arms['scratch']['test_accuracy']:.4f} from scratch" if len(arms) == 2 else ""
    after = " after pretraining" if "pretraining" in metrics else ""
    what = "each classifier" if args.members == 1 else f"each arm's {args.members} classifiers"
    averaged = (f", {what} averaged with {sentiment.describe_wide(args)}" if args.wide_ngrams
                else f", {what} averaged" if args.members > 1 else "")
    return (f"test accuracy {metrics['test_accuracy']:.4f}{versus} on {reviews.sizes['test']:,} held-out "
            f"reviews{after}{averaged}")


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
