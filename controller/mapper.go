package controller

// EventMapper maps the labels of a swarm object that an event is about (a service, a
// container, a network) to the requests the event should wake. It returns nil for objects
// swarmrun does not own, which is most of them.
type EventMapper func(labels map[string]string) []Request

// LabelMapper returns an EventMapper that wakes the object of kind named by the value of
// labelKey, e.g. LabelMapper("swarmrun.dev/testrun", "TestRun") maps a service labelled
// swarmrun.dev/testrun=discourse-pr4 to Request{Kind: "TestRun", Name: "discourse-pr4"}.
// Objects without the label, or with an empty value, map to nothing.
func LabelMapper(labelKey, kind string) EventMapper {
	return func(labels map[string]string) []Request {
		name := labels[labelKey]
		if name == "" {
			return nil
		}
		return []Request{{Kind: kind, Name: name}}
	}
}

// Handler returns a callback that enqueues what m maps an object's labels to. It is the glue
// between an event stream that reports labels (deploy's Docker event watch) and a
// controller's enqueue function, keeping each side ignorant of the other.
func (m EventMapper) Handler(enqueue func(Request)) func(labels map[string]string) {
	return func(labels map[string]string) {
		for _, req := range m(labels) {
			enqueue(req)
		}
	}
}
