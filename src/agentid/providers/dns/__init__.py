"""DNS providers: where a domain's records are written.

rdata.py      checking a record and writing its data as zone-file text (TXT in 255-byte strings)
rrsets.py     changes as whole (name, type) sets, for providers that keep records that way
zonefile.py   ``zonefile://``: BIND zone files for a human (or a name server) to take
cloudflare.py ``cloudflare://``: Cloudflare's API v4 over httpx
route53.py    ``route53://``: Amazon Route 53 through boto3, in a thread
"""
