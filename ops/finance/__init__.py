"""Finance: datasets (orders, lines, taxes, payments, settlement; more are registered by the
modules that own them), streaming CSV and XLSX writers with formula neutralisation, export jobs
(in the request, or in Celery above 10,000 rows, with a download link that expires) and the
`export_finance` command. docs/finance.md describes the columns and how settlement ties out."""
