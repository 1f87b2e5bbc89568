"""The blog's deployed library: everything the Lambda functions need besides app.py.

Nothing in here imports chalice; app.py maps the errors raised here to HTTP.
"""
