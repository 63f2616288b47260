"""Purchasing: requests for quotation, quotations, orders, vendor invoices, replenishment, the vendor portal."""
