"""The generator of the demo data in `dangol/demo_data/`: `python -m bench.demo_data.generate`.

Development-time code only: `dangol demo` reads the committed files and never imports this.
"""
