"""Server interceptors, outermost first: per-RPC logging, metrics, error mapping, authentication;
each wraps every call's behaviour through `wrapping.AroundInterceptor`."""
