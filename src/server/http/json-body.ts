// JSON bodies are parsed with secure-json-parse, which refuses `__proto__` and
// `constructor.prototype` keys outright: a body that tries to pollute prototypes is an error,
// not an object that a later merge could turn into one.
import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { WireError } from '../../wire/index.ts';

export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(new WireError('bad_request', 'The request body is empty; send a JSON object.'), undefined);
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (e) {
      const forbidden = e instanceof SyntaxError && /prototype/i.test(e.message);
      done(
        new WireError(
          'bad_request',
          forbidden ? 'The request body contains a forbidden key (__proto__ or constructor.prototype).' : 'The request body is not valid JSON.',
        ),
        undefined,
      );
    }
  });
}
