"""Measuring the service: question sets over a library, judged by verbatim quotes. Imports `index`, never back."""
