#!/usr/bin/env bash
# Run by Snakemake (--sdm conda) after it creates the env from envs/paddle.yaml:
# insightface-paddle 2.0.0's own pins (scikit-learn 0.23.2, opencv-python 4.4) have no
# Python 3.11 wheels, so the package goes in without its dependencies; the yaml
# lists what it really needs.
set -euo pipefail
python -m pip install --no-deps insightface-paddle==2.0.0
