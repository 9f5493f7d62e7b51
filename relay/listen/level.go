package listen

import (
	"math"
	"time"
)

// Analysis constants. A block is the unit of measurement (20 ms, as telephony frames);
// a side speaks from the first block louder than speakOnDB until it has stayed below
// speakOffDB for hangover (the pause inside a sentence is not the end of a turn).
const (
	blockDuration = 20 * time.Millisecond
	speakOnDB     = -40.0
	speakOffDB    = -45.0
	hangover      = 300 * time.Millisecond
	// floorDB is the level shown for digital silence.
	floorDB = -90.0
	// maxLatencies is how many turn latencies a call keeps (the newest).
	maxLatencies = 32
)

// Levels is what the analyser knows at one moment, in audio time (the samples received),
// not wall time: the same stream always gives the same figures.
type Levels struct {
	// DB is each side's level over the last block, in dBFS (floorDB for silence).
	DB [2]float64
	// Peak is each side's loudest block over the last second, in dBFS.
	Peak [2]float64
	// Speaking says who is speaking now.
	Speaking [2]bool
	// Overlap is true while both sides are loud at once (a pause's hangover does not
	// count); OverlapTotal is how long they have been, over the whole call.
	Overlap      bool
	OverlapTotal time.Duration
	// Silence is how long neither side has spoken (0 while someone speaks).
	Silence time.Duration
	// Latencies are the turn gaps measured so far, oldest first (at most maxLatencies):
	// from the end of the caller's speech to the start of the assistant's.
	Latencies []time.Duration
	// Turns counts every gap measured (Latencies keeps only the newest).
	Turns int
	// Audio is how much audio has been analysed.
	Audio time.Duration
}

// analyzer measures a stream block by block. Its memory is fixed.
type analyzer struct {
	f          Format
	blockLen   int // sample frames per block
	n          int // sample frames in the current block
	sum        [2]float64
	blocks     int64 // blocks analysed
	speaking   [2]bool
	loud       [2]bool  // the last block was loud, per side
	quietFor   [2]int   // blocks below speakOffDB while speaking
	lastLoud   [2]int64 // block index of each side's last loud block (-1: never)
	custEnded  int64    // block where the caller's speech ended, -1 when none waits for an answer
	overlap    int64    // blocks with both sides speaking
	peakSide   [50][2]float64
	db         [2]float64
	latencies  [maxLatencies]time.Duration
	nLatencies int
	turns      int
}

func newAnalyzer(f Format) *analyzer {
	a := &analyzer{f: f, blockLen: f.SampleRate * int(blockDuration/time.Millisecond) / 1000, custEnded: -1}
	a.lastLoud = [2]int64{-1, -1}
	a.db = [2]float64{floorDB, floorDB}
	for i := range a.peakSide {
		a.peakSide[i] = [2]float64{floorDB, floorDB}
	}
	return a
}

// write analyses interleaved PCM (whole sample frames only).
func (a *analyzer) write(pcm []byte) {
	ch := a.f.Channels
	for i := 0; i+2*ch <= len(pcm); i += 2 * ch {
		s0 := float64(int16(uint16(pcm[i]) | uint16(pcm[i+1])<<8))
		a.sum[0] += s0 * s0
		if ch == 2 {
			s1 := float64(int16(uint16(pcm[i+2]) | uint16(pcm[i+3])<<8))
			a.sum[1] += s1 * s1
		}
		a.n++
		if a.n == a.blockLen {
			a.endBlock()
		}
	}
}

func dbfs(meanSquare float64) float64 {
	if meanSquare <= 0 {
		return floorDB
	}
	db := 10 * math.Log10(meanSquare/(32768.0*32768.0))
	if db < floorDB {
		return floorDB
	}
	return db
}

func (a *analyzer) endBlock() {
	hang := int(hangover / blockDuration)
	b := a.blocks
	slot := int(b % int64(len(a.peakSide)))
	for s := 0; s < 2; s++ {
		a.db[s] = dbfs(a.sum[s] / float64(a.n))
		a.peakSide[slot][s] = a.db[s]
		a.sum[s] = 0
		loud := a.db[s] > speakOnDB
		a.loud[s] = loud
		switch {
		case loud:
			if !a.speaking[s] {
				a.speaking[s] = true
				if Side(s) == Assistant {
					a.assistantStarted(b)
				}
			}
			a.quietFor[s] = 0
			a.lastLoud[s] = b
		case a.speaking[s] && a.db[s] < speakOffDB:
			a.quietFor[s]++
			if a.quietFor[s] >= hang {
				a.speaking[s] = false
				if Side(s) == Customer {
					a.custEnded = a.lastLoud[s] + 1
				}
			}
		case a.speaking[s]:
			a.quietFor[s] = 0 // between the thresholds: still speaking
		}
	}
	if a.loud[0] && a.loud[1] {
		a.overlap++
	}
	a.n = 0
	a.blocks++
}

// assistantStarted records a turn gap when the assistant starts speaking after the
// caller's speech ended (not when it talks over the caller, nor twice for one turn).
func (a *analyzer) assistantStarted(b int64) {
	if a.custEnded < 0 || a.speaking[Customer] {
		return
	}
	gap := time.Duration(b-a.custEnded) * blockDuration
	a.custEnded = -1
	if a.nLatencies == maxLatencies {
		copy(a.latencies[:], a.latencies[1:])
		a.nLatencies--
	}
	a.latencies[a.nLatencies] = gap
	a.nLatencies++
	a.turns++
}

// levels returns the figures now.
func (a *analyzer) levels() Levels {
	l := Levels{DB: a.db, Speaking: a.speaking, Turns: a.turns,
		Overlap: a.loud[0] && a.loud[1], OverlapTotal: time.Duration(a.overlap) * blockDuration,
		Audio: time.Duration(a.blocks) * blockDuration}
	l.Peak = [2]float64{floorDB, floorDB}
	for i := range a.peakSide {
		for s := 0; s < 2; s++ {
			l.Peak[s] = max(l.Peak[s], a.peakSide[i][s])
		}
	}
	if !a.speaking[0] && !a.speaking[1] {
		last := max(a.lastLoud[0], a.lastLoud[1])
		l.Silence = time.Duration(a.blocks-last-1) * blockDuration
	}
	if a.nLatencies > 0 {
		l.Latencies = append([]time.Duration(nil), a.latencies[:a.nLatencies]...)
	}
	return l
}
