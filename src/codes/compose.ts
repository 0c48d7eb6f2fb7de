import type { ComposeDeps } from '../campaigns/compose.js';
import { codeNoticeFacts, type CodeDeps } from './service.js';

/**
 * What composing a message needs, with code offers filled in: the send worker and the call
 * webhook (which composes again when the person picks up) must say the same code.
 */
export function composeDepsWithCodes(deps: CodeDeps & Pick<ComposeDeps, 'i18n'>): ComposeDeps & CodeDeps {
  return {
    ...deps,
    publicBaseUrl: deps.config.publicBaseUrl,
    codeOffer: (input) => codeNoticeFacts(deps, input),
  };
}
