"""Demo data: CSV exports of a small business's shop, CRM and newsletter tool, with planted problems."""

from patron.demo.generate import DemoExport, generate

__all__ = ["DemoExport", "generate"]
