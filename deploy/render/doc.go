// Package render turns compose files into the swarm objects of one stack, exactly as
// `docker stack deploy` would create them: it uses docker/cli's compose loader and converter.
//
// A render is a pure function of its inputs: an ordered list of compose files, inline overlay
// fragments and an explicit environment for interpolation. The process environment never
// leaks into a render unless the caller passes it. render talks to no engine.
package render
