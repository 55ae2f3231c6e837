"""Recipe: an LSTM reads a film review word by word and says fresh or rotten.

    python -m recipes.lstm_sentiment                            # Rotten Tomatoes snippets, offline
    python -m recipes.lstm_sentiment --quick                    # a smoke test
    python -m recipes.lstm_sentiment --dataset tfds:imdb_reviews --sequence-length 200
    python -m recipes.lstm_sentiment --tune bayesian --max-trials 8
    zoo launch --workers 2 -- recipes.lstm_sentiment --distribute multi_worker   # two local workers

The story: a sequence network is many-to-one here: 12,808 real review
snippets, one word at a time into an LSTM whose memory cell carries what
matters forward; after the last word, one softmax says fresh or rotten. The
saved model.keras takes raw strings: vectorizer and classifier in one.
Writes results.json, model.keras, history.csv, curves.png and TensorBoard logs to --out.
See recipes/sentiment.py for the steps both sentiment recipes share.
"""

from __future__ import annotations

# Flags and their defaults, with the reason beside each.
EPOCHS = 20            # early stopping usually ends it after a few epochs: small data overfits fast
BATCH_SIZE = 32
LEARNING_RATE = 1e-3   # Adam's default
SEED = 0
PATIENCE = 3           # epochs without a better validation accuracy before stopping
MAX_TOKENS = 20000     # the corpus has 22.5k distinct words; the rarest share the out-of-vocabulary id
SEQUENCE_LENGTH = 48   # snippets: median 18 words, 99% at most 40, the longest 53
MODEL = dict(embedding_dim=64, lstm_units=64, dropout=0.0)  # zoo defaults, spelled out


def main(argv=None):
    from recipes import sentiment

    return sentiment.main("lstm_sentiment", __doc__.split("\n\n")[0], globals(), MODEL, argv)


if __name__ == "__main__":
    from zoo.training import run_main

    raise SystemExit(run_main(main))
