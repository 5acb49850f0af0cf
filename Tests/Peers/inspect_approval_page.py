"""Open the bridge's approval page in headless Chromium (through chromedriver, as
approve_in_browser.py does) and report, as JSON on stdout, what a person sees in one
request's row: the account picker's options (text and whether they are marked as lacking
the request's scopes) and whether the "new account number" placeholder fits its field.
It reports the row as the server rendered it and, for a request made after the page
loaded (--later-request), as the page's script built it. Saves a screenshot.

    python Tests/Peers/inspect_approval_page.py --bridge http://127.0.0.1:PORT --token SECRET \
        --request ID [--ready-file F --later-file G] --screenshot test-artifacts/approval-accounts.png
"""
import argparse
import json
import sys
import time

from approve_in_browser import WebDriver

# Runs in the page: the options of a row's picker, and the placeholder's rendered width
# against the width the field gives its text (a canvas measures text in the field's font).
# The width is only true of a text field: a number field reserves room for its spin
# buttons inside clientWidth, which is how a cut-off placeholder went unseen.
ROW_SCRIPT = """
var row = document.querySelector('tr[data-id="' + arguments[0] + '"]');
if (!row) { return null; }
var options = Array.prototype.map.call(row.querySelectorAll('select[name="account_id"] option'), function (option) {
  return {text: option.textContent, value: option.value, lacks: option.classList.contains('lacks-scopes'), selected: option.selected};
});
var field = row.querySelector('input[name="new_account_id"]');
var style = getComputedStyle(field);
var context = document.createElement('canvas').getContext('2d');
context.font = style.font;
var needed = context.measureText(field.placeholder).width;
var available = field.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
return {options: options, placeholder: field.placeholder, field_type: field.type, placeholder_width: needed, field_text_width: available};
"""


def row_report(driver, request_id, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        report = driver.call("POST", "/execute/sync", {"script": ROW_SCRIPT, "args": [request_id]})
        if report is not None or time.monotonic() > deadline:
            return report
        time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bridge", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--request", required=True)
    parser.add_argument("--later-file", help="a file the test writes the later request's id to after the page loaded")
    parser.add_argument("--ready-file", help="a file this script creates once the page has loaded")
    parser.add_argument("--screenshot", required=True)
    args = parser.parse_args()

    driver = WebDriver()
    try:
        driver.call("POST", "/url", {"url": f"{args.bridge}/?token={args.token}"})
        driver.find(f'tr[data-id="{args.request}"]')
        result = {"server": row_report(driver, args.request)}
        if args.later_file:
            open(args.ready_file, "w").close()
            deadline = time.monotonic() + 30
            later = ""
            while not later and time.monotonic() < deadline:
                try:
                    later = open(args.later_file).read().strip()
                except FileNotFoundError:
                    time.sleep(0.2)
            result["script"] = row_report(driver, later, timeout=15) if later else None
        driver.screenshot(args.screenshot)
        print(json.dumps(result))
        return 0
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
