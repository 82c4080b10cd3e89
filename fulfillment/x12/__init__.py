"""The X12 file node connector: 940 files out, 945 files in (and 944 return receipts, handed to
the handler returns registers in sets.py). The codec (bytes ⇄ documents) is
integrations/x12/; this package is what the documents mean to fulfillment, one job a module:

    connector.py   the `x12_file` node connector: a 940 per released fulfillment order
    inbox.py       945 files: scan the inbox, read, archive, log to the inbound message log
    sets.py        the handlers upper layers register for other sets (944 → returns/x12.py)
    mapping.py     pure: a parsed 945 → the ship/reject calls to make (and its JSON for the log)
    apply.py       one advice applied through the node feedback services
    results.py     what an import reports (per advice, per file) and its error
"""
