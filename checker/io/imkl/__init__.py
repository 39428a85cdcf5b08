"""KLIC deliveries (IMKL 2.0 and 3.0): read them, cut dwarsprofielen from them, walk a street axis.

`reader` streams the GML of a delivery (zip or XML) into a `delivery.Delivery`; `depth` says
how deep a line lies where it is cut, and on what basis; `cut` turns a delivery and a
section line into a case mapping; `axis` places the section lines along a street.
"""
