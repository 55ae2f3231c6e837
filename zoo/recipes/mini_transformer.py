"""Recipe: a small Transformer reads a film review all at once and says fresh or rotten.

    python -m zoo.recipes.mini_transformer                          # Rotten Tomatoes snippets, offline
    python -m zoo.recipes.mini_transformer --quick                  # a smoke test
    python -m zoo.recipes.mini_transformer --dataset tfds:imdb_reviews --sequence-length 200
    python -m zoo.recipes.mini_transformer --tune hyperband --max-trials 8

The story: the same reviews and pipeline as zoo.recipes.lstm_sentiment, for a
side by side comparison, but no recurrence: every word looks at every other
word through self-attention (Vaswani et al., 2017), and position embeddings say
where each word stands. Like the LSTM recipe, it averages several Transformers
(five) with a wide model over word 1-2-grams and character 1-5-grams
(--members, --wide-ngrams, --wide-characters; the choice is in
benchmarks/results/choices_mini_transformer.json). Without the character
n-grams the ensemble lost narrowly to the TF-IDF + linear SVM baseline; with
them it scored highest on validation and beats it on test. Repeated on five
random splits (the page's "On other splits") it wins on three and loses on two:
ahead on average, but the interval of the mean gap still includes zero, so five
splits cannot yet tell a real win from luck. Its 0.7920 on test is short of
the 0.800 set as its goal; the page's table of variants is everything tried,
validation and test side by side. Counting thesaurus categories in
the wide model (--thesaurus) did not score higher on validation. Each part of
the ensemble is also scored alone on validation (the page's "Each part alone"):
on this data the wide model carries the ensemble, and the Transformers' votes
do not lift it. After training, the run records which words the first
Transformer's first attention layer focused on for one real test review
(attention.json), the picture the docs draw. Writes results.json, model.keras
(scores raw strings), history.csv, curves.png, attention.json and TensorBoard
logs to --out.
"""

from __future__ import annotations

from zoo import model_card
from zoo.recipes import sentiment

# The zoo entry's arguments; the training defaults are the shared ones in recipes/sentiment.py.
MODEL = dict(embed_dim=64, num_heads=2, ff_dim=128, num_layers=1, dropout=0.1)  # zoo defaults, spelled out
# What the trained model is for and where it stops being trustworthy: its model card (zoo.model_card).
USE = model_card.Use(
    intended_use=("Teaching and comparison: whether a short English film-review snippet is fresh (positive) or"
                  " rotten (negative), side by side with lstm_sentiment on the same split."),
    limits=(*sentiment.ENSEMBLE_LIMITS,
            "Its attention weights show what the layer mixed, not why the model decided."),
    written_for={"dataset": "rotten_tomatoes", "sequence_length": 48},   # the flag values this text describes
)
# Chosen on validation among 13 variants (benchmarks/results/choices_mini_transformer.json): five members and
# character n-grams in the wide model, 0.8020, against 0.7902 without them and 0.7824 for three members; label
# smoothing and weight decay did not help this model.
SETTINGS = sentiment.Settings(recipe="mini_transformer", model=MODEL, use=USE, members=5, wide_characters=5)
ATTENTION_WORDS = (8, 20)  # the attention picture uses the first test review of this many words


def attention_report(run, classifier, vectorizer, reviews):
    """attention.json: the first encoder's head-averaged attention over one real test review."""
    import keras
    import numpy as np

    vocabulary = vectorizer.get_vocabulary()
    for text, label in reviews.test.as_numpy_iterator():
        ids = keras.ops.convert_to_numpy(vectorizer(np.array([text])))
        length = int((ids[0] > 0).sum())
        if ATTENTION_WORDS[0] <= length <= ATTENTION_WORDS[1]:
            break
    else:
        return {}
    embedding = classifier.get_layer("embedding")
    vectors = embedding(ids)
    _, scores = classifier.get_layer("encoder_1")(vectors, mask=embedding.compute_mask(ids),
                                                  return_attention_scores=True)
    weights = keras.ops.convert_to_numpy(keras.ops.mean(scores, axis=1))[0, :length, :length]
    probabilities = keras.ops.convert_to_numpy(classifier(ids))[0]
    record = {"text": text.decode("utf-8"), "tokens": [vocabulary[i] for i in ids[0, :length]],
              "weights": np.round(weights, 4).tolist(), "label": reviews.class_names[int(label)],
              "prediction": reviews.class_names[int(probabilities.argmax())],
              "probability": round(float(probabilities.max()), 4),
              "chosen_as": f"the first test review with {ATTENTION_WORDS[0]}-{ATTENTION_WORDS[1]} tokens"}
    run.write_json("attention.json", record)
    return {"attention_example": "attention.json"}


def parse_args(argv=None):
    return sentiment.parse_args(SETTINGS, __doc__, argv)


def main(argv=None):
    return sentiment.main(SETTINGS, __doc__, argv, report=attention_report)


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
