"""The component knowledge base: curated part data, its SQLite store, and retrieval."""

from components_db.kb import KnowledgeBase, KnowledgeBaseError
from components_db.retrieval import SearchHit
from components_db.schema import Part

__all__ = ["KnowledgeBase", "KnowledgeBaseError", "Part", "SearchHit"]
