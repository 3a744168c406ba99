#!/usr/bin/python3
"""scikit-learn's LogisticRegression on the split the Tabular sample exports, with the same
preprocessing: numbers mean-imputed with a missing indicator, then standardized; categories one-hot
(a missing value its own category, an unseen one all zeros); "year" dropped. Fitted on the sample's
training + validation rows (scikit-learn needs no validation part), scored on its test rows.

    dotnet run -c Release --project samples/NeuralBasics.Tabular -- --export /tmp/penguins-split
    /usr/bin/python3 samples/NeuralBasics.Tabular/compare_sklearn.py /tmp/penguins-split

Needs Debian's python3-sklearn.
"""
import csv
import sys

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORICAL = ["island", "sex"]


def read(path):
    """Features as an object array (numbers as float with NaN, categories as str with None) and the species."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    features = np.array([[float("nan") if r[c] == "NA" else float(r[c]) for c in NUMERIC]
                         + [None if r[c] == "NA" else r[c] for c in CATEGORICAL] for r in rows], dtype=object)
    return features, np.array([r["species"] for r in rows])


def pipeline(model):
    numbers = list(range(len(NUMERIC)))
    categories = list(range(len(NUMERIC), len(NUMERIC) + len(CATEGORICAL)))
    prepare = ColumnTransformer([
        ("numbers", make_pipeline(SimpleImputer(strategy="mean", add_indicator=True), StandardScaler()), numbers),
        ("categories", OneHotEncoder(handle_unknown="ignore"), categories),
    ])
    return make_pipeline(prepare, model)


folder = sys.argv[1]
train_x, train_y = read(f"{folder}/train.csv")
test_x, test_y = read(f"{folder}/test.csv")
for name, model in [("LogisticRegression (C=1)", LogisticRegression(max_iter=1000)),
                    ("MLPClassifier (16 ReLU, adam)", MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=1))]:
    fitted = pipeline(model).fit(train_x, train_y)
    accuracy = (fitted.predict(test_x) == test_y).mean()
    print(f"{name}: test accuracy {accuracy:.2%} on {len(test_y)} rows")
