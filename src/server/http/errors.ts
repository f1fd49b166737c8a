// Turns every failure into `{ error: { code, message } }` with the right status, and never
// into a stack trace. Fastify's own errors (body too large, bad JSON, wrong content type) are
// mapped to the shared codes so clients see one vocabulary.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { WireError, httpStatus, type ErrorCode } from '../../wire/index.ts';

export function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  return reply.code(httpStatus(code)).type('application/json; charset=utf-8').send({ error: { code, message } });
}

const FASTIFY_CODES: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'The request body is too large.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'Send the request body as application/json.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['bad_request', 'The Content-Length header does not match the body.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['bad_request', 'The request body is empty; send a JSON object.'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['bad_request', 'The request body is not valid JSON.'],
};

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof WireError) {
      if (error.code === 'rate_limited' && !reply.hasHeader('retry-after')) reply.header('retry-after', '5');
      return sendError(reply, error.code, error.message);
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped) return sendError(reply, mapped[0], mapped[1]);
    if (error instanceof SyntaxError || error.statusCode === 400) {
      return sendError(reply, 'bad_request', 'The request body is not valid JSON.');
    }
    if (error.statusCode === 413) return sendError(reply, 'payload_too_large', 'The request body is too large.');
    if (error.statusCode === 415) return sendError(reply, 'unsupported_media_type', 'Send the request body as application/json.');
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, 'internal', 'Something went wrong on the server. Please try again.');
  });
}
