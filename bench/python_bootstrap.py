"""A minimal Lambda Runtime API loop for a Python handler (what a `python3.x`
runtime does around `lambda_handler`): GET next, call, POST the response or
the error. Usage: python_bootstrap.py MODULE_PATH FUNCTION."""

import importlib.util
import json
import os
import sys
import urllib.request


def main():
    path, function = sys.argv[1], sys.argv[2]
    spec = importlib.util.spec_from_file_location("handler", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler = getattr(module, function)
    api = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation"
    while True:
        with urllib.request.urlopen(f"{api}/next") as r:
            request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(r.read())
        try:
            body, outcome = json.dumps(handler(event, None)).encode(), "response"
        except Exception as e:  # reported to the Runtime API, as the real runtime does
            body, outcome = json.dumps({"errorMessage": str(e), "errorType": type(e).__name__}).encode(), "error"
        urllib.request.urlopen(urllib.request.Request(f"{api}/{request_id}/{outcome}", data=body, method="POST")).read()


if __name__ == "__main__":
    main()
