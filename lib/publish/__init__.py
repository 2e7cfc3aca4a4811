"""Publishing the book: the chapters' first cell for Colab (`colab`), their glued numbers
(`glue`), the source they show (`source`), the demo page's ONNX files (`export`) and the site
and its release tag (`site`). Nothing in the core or the studies imports these."""
