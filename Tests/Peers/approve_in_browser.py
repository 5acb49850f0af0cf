"""Approve a token request on the bridge's approval page in headless Chromium, driven
through chromedriver's W3C WebDriver API, as a person would: open the page with the
bridge secret, find the request's row, enter the account number, press Approve. Saves a
screenshot of the page before and after.

    python Tests/Peers/approve_in_browser.py --bridge http://127.0.0.1:PORT --token SECRET \
        --request ID --account 2 --screenshot test-artifacts/approval-page.png
"""
import argparse
import base64
import os
import socket
import subprocess
import sys
import tempfile
import time

import requests


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(["chromedriver", f"--port={self.port}"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                requests.get(f"{self.base}/status", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        profile = tempfile.mkdtemp(prefix="chromium-")
        capabilities = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--user-data-dir={profile}", "--window-size=1200,800"]}}}}
        answer = requests.post(f"{self.base}/session", json=capabilities, timeout=60).json()
        self.session = f"{self.base}/session/{answer['value']['sessionId']}"

    def call(self, method, path, body=None):
        answer = requests.request(method, self.session + path, json=body, timeout=30).json()
        value = answer.get("value")
        if isinstance(value, dict) and "error" in value:
            raise RuntimeError(f"{path}: {value['error']}: {value.get('message', '')[:200]}")
        return value

    def find(self, css, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return list(self.call("POST", "/element", {"using": "css selector", "value": css}).values())[0]
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def screenshot(self, path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as file:
            file.write(base64.b64decode(self.call("GET", "/screenshot")))

    def quit(self):
        try:
            requests.delete(self.session, timeout=10)
        finally:
            self.process.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bridge", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--request", required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--screenshot", required=True)
    args = parser.parse_args()

    driver = WebDriver()
    try:
        driver.call("POST", "/url", {"url": f"{args.bridge}/?token={args.token}"})
        row = f'tr[data-id="{args.request}"]'
        driver.find(row)
        driver.screenshot(args.screenshot)
        field = driver.find(f'{row} input[name="new_account_id"]')
        driver.call("POST", f"/element/{field}/value", {"text": args.account})
        button = driver.find(f'{row} form[action$="/approve"] button')
        driver.call("POST", f"/element/{button}/click", {})
        time.sleep(1)
        root, extension = os.path.splitext(args.screenshot)
        driver.screenshot(f"{root}-after{extension}")
        print(f"APPROVED {driver.call('GET', '/url')}")
        return 0
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
