"""HTTP headers several pages share."""

# A report is one self-contained page: no script, images as data URIs, nothing fetched.
REPORT_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"
