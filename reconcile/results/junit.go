package results

import (
	"encoding/xml"
	"fmt"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// The JUnit XML schema as CI systems read it: testsuites > testsuite > testcase, with
// failure and skipped children.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// JUnit renders a Result as JUnit XML: one suite per tier, one case per check. A tier without
// checks becomes one case named after the tier, so its verdict is still visible.
func JUnit(r Result, now time.Time) ([]byte, error) {
	doc := junitSuites{Name: "swarmrun/" + r.TestRun}
	var total time.Duration
	for _, name := range tierOrder(r.Tiers) {
		t := r.Tiers[name]
		s := junitSuite{Name: name, Timestamp: now.UTC().Format(time.RFC3339)}
		var suiteTime time.Duration
		checks := t.Checks
		if len(checks) == 0 {
			checks = []v1alpha1.CheckResult{{Name: name, Result: t.Result, Message: t.Reason}}
		}
		for _, c := range checks {
			tc := junitCase{
				Name:      c.Name,
				ClassName: r.TestRun + "." + name,
				Time:      seconds(c.Duration.Duration),
				SystemOut: c.Output,
			}
			switch c.Result {
			case v1alpha1.ResultFailed:
				tc.Failure = &junitMessage{Message: c.Message, Body: c.Output}
				s.Failures++
			case v1alpha1.ResultSkipped, v1alpha1.ResultNotApplicable:
				msg := c.Message
				if msg == "" {
					msg = string(c.Result)
				}
				tc.Skipped = &junitMessage{Message: msg}
				s.Skipped++
			}
			suiteTime += c.Duration.Duration
			s.Cases = append(s.Cases, tc)
			s.Tests++
		}
		s.Time = seconds(suiteTime)
		total += suiteTime
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	if r.Timings.Duration.Duration > 0 {
		total = r.Timings.Duration.Duration
	}
	doc.Time = seconds(total)
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", JUnitFile, err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
