package fleet

import (
	"context"

	"github.com/felhom/hub/configgen"
)

// PreviewConfig returns the customer's generated controller.yaml with the
// values of secret keys masked, for showing on a page. The retrieval
// endpoint serves the full file. Reading is not an action: no audit entry.
func (s *Service) PreviewConfig(ctx context.Context, id string) ([]byte, error) {
	cfg, err := s.Customers.FindCustomerConfig(ctx, id)
	if err != nil {
		return nil, err
	}
	body, err := s.render(cfg)
	if err != nil {
		return nil, err
	}
	return configgen.MaskSecrets(body)
}
