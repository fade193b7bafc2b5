"""Draws docs/images/mlflow-compare.png: MLflow's chart view of one
experiment's runs, from a real tracking server that `fmnist export mlflow`
filled. A documentation tool, not part of the project.

    python mlflow-compare.py URI EXPERIMENT OUT.png [FILTER]

Needs `pip install mlflow playwright` and a Chromium (`apt-get install
chromium`; its path in $CHROMIUM, default /usr/bin/chromium).
"""

import os
import sys
import urllib.parse

from mlflow import MlflowClient
from playwright.sync_api import sync_playwright

uri, experiment, out = sys.argv[1:4]
search = sys.argv[4] if len(sys.argv) > 4 else 'params.seed = "0"'
exp = MlflowClient(uri).get_experiment_by_name(experiment)
query = urllib.parse.urlencode({
    "compareRunsMode": "CHART",
    "workflowType": "machine_learning",
    "searchFilter": search,
})
url = f"{uri}/#/experiments/{exp.experiment_id}/runs?{query}"
with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"],
    )
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(5000)
    # The assistant's side panel, when the UI opens it, hides half the charts.
    for label in ("Close", "Close assistant"):
        button = page.get_by_role("button", name=label)
        if button.count():
            button.first.click()
    page.wait_for_timeout(2000)
    page.screenshot(path=out)
    browser.close()
print(url)
