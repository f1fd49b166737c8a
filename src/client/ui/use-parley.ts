// Subscribes a component to the client's state snapshot.
import { useSyncExternalStore } from 'react';
import type { ParleyClient, ParleyState } from '../messaging/parley-client.ts';

export function useParley(client: ParleyClient): ParleyState {
  return useSyncExternalStore(client.subscribe, client.getSnapshot);
}
