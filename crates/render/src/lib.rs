//! secviz-render draws link graphs and charts as SVG, and rasterises SVG to PNG.
