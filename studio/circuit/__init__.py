"""The design model: a design (``design``), its values, its binding to the knowledge base (``resolve``,
``bound``), what each net carries (``rails``), what it does in numbers (``measured``), the shipped examples."""
