"""Fit an ElasticNet on scikit-learn's bundled wine data set and log to the project's run.

`mlflowx run` sets MLFLOWX_RUN_ID/MLFLOWX_TRACKING_URI, so `start_run()` resumes that run.
"""

import argparse

import numpy as np
from sklearn.datasets import load_wine
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

import mlflowx

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=0.5)
parser.add_argument("--l1-ratio", type=float, default=0.1)
parser.add_argument("--max-iter", type=int, default=2000)
args = parser.parse_args()

X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)
model = ElasticNet(alpha=args.alpha, l1_ratio=args.l1_ratio, max_iter=args.max_iter)
model.fit(X_train, y_train)
pred = model.predict(X_test)
rmse = float(np.sqrt(mean_squared_error(y_test, pred)))

with mlflowx.start_run():
    mlflowx.log_metric("rmse", rmse)
    mlflowx.log_metric("mae", float(mean_absolute_error(y_test, pred)))
    mlflowx.log_metric("r2", float(r2_score(y_test, pred)))
print(f"ElasticNet(alpha={args.alpha}, l1_ratio={args.l1_ratio}): rmse={rmse:.4f}")
