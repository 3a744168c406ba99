"""scikit-learn's LogisticRegression(solver="lbfgs", C=1) on Fashion-MNIST, the reference for the
L-BFGS row of the peer benchmark: prints, for each max_iter given (default 100), the iterations
run, the time, the test accuracy and the objective in NeuralBasics' form, mean cross-entropy +
(1/120000)·‖W‖² (scikit-learn minimizes C·Σ loss + ½‖W‖², the same optimum divided by C·N).

    python3 sklearn_lbfgs.py [max_iter ...]       (Debian: apt-get install python3-sklearn)
"""
import gzip
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

FOLDER = "/usr/share/datasets/fashion-mnist/"


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    count = int.from_bytes(data[4:8], "big")
    if data[3] == 3:
        return np.frombuffer(data, np.uint8, offset=16).reshape(count, 784)
    return np.frombuffer(data, np.uint8, offset=8)


x = idx(FOLDER + "train-images-idx3-ubyte.gz").astype(np.float64) / 255
y = idx(FOLDER + "train-labels-idx1-ubyte.gz")
x_test = idx(FOLDER + "t10k-images-idx3-ubyte.gz").astype(np.float64) / 255
y_test = idx(FOLDER + "t10k-labels-idx1-ubyte.gz")


def objective(model):
    scores = x @ model.coef_.T + model.intercept_
    scores -= scores.max(axis=1, keepdims=True)
    loss = np.mean(np.log(np.exp(scores).sum(axis=1)) - scores[np.arange(len(y)), y])
    return loss + (model.coef_ ** 2).sum() / (2 * 1.0 * len(y))


for max_iter in [int(a) for a in sys.argv[1:]] or [100]:
    model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=max_iter)
    start = time.time()
    model.fit(x, y)
    seconds = time.time() - start
    print(f"max_iter {max_iter}: {model.n_iter_[0]} iterations, {seconds:.2f} s, "
          f"test accuracy {model.score(x_test, y_test):.4f}, objective {objective(model):.8f}")
