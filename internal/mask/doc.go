// Package mask keeps secrets out of everything swarmrun shows: logs, status, events, check
// output and results. A Masker replaces every known secret value, and the value of every
// secret-shaped key (PASSWORD, TOKEN, SECRET, KEY, ...), with "***".
//
// A Masker must never hand out or log the values it knows.
package mask
