/**
 * The HubSpot fake in a process of its own, as HubSpot is: its work on each batch does not
 * delay the timers that pace the delivery under test. Driven over IPC by hubspot.bench.ts.
 */
import { startHubspotFake, type HubspotFake, type HubspotFakeOptions } from '../../test/fakes/hubspot/hubspot-fake.ts';

let fake: HubspotFake | undefined;

process.on('message', async (message: { type: 'start'; options: HubspotFakeOptions } | { type: 'requests' } | { type: 'close' }) => {
  if (message.type === 'start') {
    fake = await startHubspotFake(message.options);
    process.send!({ type: 'started', url: fake.url, token: fake.token });
  } else if (message.type === 'requests') {
    process.send!({ type: 'requests', requests: fake?.requests ?? [] });
  } else {
    await fake?.close();
    process.disconnect();
  }
});
