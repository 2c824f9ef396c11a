"""Measuring retrieval: BEIR sets, metrics, baselines and the vector cache behind `pqa eval` and bench/, and question
sets over a library judged by verbatim quotes. Imports `index`, never back; serving never imports it."""
