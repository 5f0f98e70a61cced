//! prodready: production readiness, judged continuously.
