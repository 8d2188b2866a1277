"""fakeaws: a local, faithful-enough AWS for cwexport's tests, demo and benchmarks.

CloudWatch Logs export tasks, S3, SNS and STS on 127.0.0.1, with SigV4
verification by botocore's signer, fault injection and a timeline.
"""
__version__ = "1.0"
