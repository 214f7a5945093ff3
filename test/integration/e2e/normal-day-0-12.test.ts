// Issue 9's proof on the full chain for the simulated Ollama 0.12.6 profile: a compressed normal day causes nothing,
// then every fault is healed with the right step (test/helpers/normal-day-suite.ts).
import { normalDaySuite } from '../../helpers/normal-day-suite.js';

normalDaySuite('0.12.6');
