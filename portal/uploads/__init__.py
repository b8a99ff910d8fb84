"""Safe storage of uploaded documents (PDF, JPEG, PNG) in the instance folder."""
