package customers

// SetMergeFault makes Merge fail with err at the named step (tests only).
func SetMergeFault(s *Service, step string, err error) {
	s.mergeFault = func(at string) error {
		if at == step {
			return err
		}
		return nil
	}
}
